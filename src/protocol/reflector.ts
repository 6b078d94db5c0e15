/**
 * Inbox and replies of the reflector actor (actors/reflector). Records are validated at the boundary
 * (`tellUnknown` / `askUnknown`), so a malformed experience never reaches the reflection logic.
 */
import { Schema } from "effect"
import { ProblemExperienceSchema, ProblemInsightsSchema } from "./records.ts"

export {
  ExperienceItemSchema, InsightSchema, ProblemExperienceSchema, ProblemInsightsSchema, ProvenanceSchema, SourcesSchema
} from "./records.ts"

export const ReflectorIn = Schema.Union([
  /** Reflect on these problems' current experience (the batch's problems), writing at (step, policyVersion). */
  Schema.TaggedStruct("Reflect", { step: Schema.Int, policyVersion: Schema.Int, experiences: Schema.Array(ProblemExperienceSchema) }),
  /** Read the insights of some problems (missing ones come back empty). */
  Schema.TaggedStruct("GetInsights", { problemIds: Schema.Array(Schema.String) })
])
export type ReflectorIn = typeof ReflectorIn.Type

export const ReflectorOut = Schema.Union([
  /** The insight records the reflection changed (in problem-id order) and what it did. */
  Schema.TaggedStruct("Reflected", {
    changed: Schema.Array(ProblemInsightsSchema), added: Schema.Int, merged: Schema.Int, dropped: Schema.Int
  }),
  Schema.TaggedStruct("Insights", { insights: Schema.Array(ProblemInsightsSchema) })
])
export type ReflectorOut = typeof ReflectorOut.Type

/** A Reflect the reflector refuses (a problem twice, a malformed record): a typed failure of the ask. */
export class ReflectorInputError extends Schema.TaggedError<ReflectorInputError>()("ReflectorInputError", { problem: Schema.String }) {}
