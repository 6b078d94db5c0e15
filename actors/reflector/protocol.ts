/**
 * Inbox of the reflector actor (one tagged union) and the schemas of the memory records it carries.
 * Records are validated at the boundary (`tellUnknown` / `askUnknown`), so a malformed experience
 * never reaches the reflection logic.
 */
import { Schema } from "effect"

const Tokens = Schema.Array(Schema.Int)

export const ProvenanceSchema = Schema.Struct({
  rolloutId: Schema.String, policyVersion: Schema.Int, step: Schema.Int, reward: Schema.Number
})
export const SourcesSchema = Schema.Struct({ rolloutIds: Schema.Array(Schema.String), policyVersion: Schema.Int, step: Schema.Int })

export const ExperienceItemSchema = Schema.Struct({
  id: Schema.String, response: Tokens, feedback: Tokens, success: Schema.Boolean, prov: ProvenanceSchema
})
export const ProblemExperienceSchema = Schema.Struct({
  problemId: Schema.String, successes: Schema.Array(ExperienceItemSchema), failures: Schema.Array(ExperienceItemSchema),
  attempts: Schema.Int, solved: Schema.Int
})
export const InsightSchema = Schema.Struct({
  id: Schema.String, problemId: Schema.String, kind: Schema.Literals(["strategy", "lesson"]), tokens: Tokens, feedback: Tokens,
  contrastive: Schema.Boolean, confidence: Schema.Number, support: Schema.Int, sources: SourcesSchema
})
export const ProblemInsightsSchema = Schema.Struct({
  problemId: Schema.String, strategies: Schema.Array(InsightSchema), lessons: Schema.Array(InsightSchema)
})

export const ReflectorIn = Schema.Union([
  /** Reflect on these problems' current experience (the batch's problems), writing at (step, policyVersion). */
  Schema.TaggedStruct("Reflect", { step: Schema.Int, policyVersion: Schema.Int, experiences: Schema.Array(ProblemExperienceSchema) }),
  /** Read the insights of some problems (missing ones come back empty). */
  Schema.TaggedStruct("GetInsights", { problemIds: Schema.Array(Schema.String) })
])
export type ReflectorIn = typeof ReflectorIn.Type
