/**
 * Inbox of the consolidator actor. Problems travel as tokens (the actor embeds them with its fixed
 * embedder and caches the vectors by id); insights reuse the reflector's record schemas.
 */
import { Schema } from "effect"
import { ProblemInsightsSchema } from "../reflector/protocol.ts"

const Tokens = Schema.Array(Schema.Int)
const ProblemSchema = Schema.Struct({ id: Schema.String, tokens: Tokens })

export const ConsolidatorIn = Schema.Union([
  /** Cluster the problems, abstract their insights, decide edits to the bank (every K steps). */
  Schema.TaggedStruct("Consolidate", {
    step: Schema.Int, policyVersion: Schema.Int, problems: Schema.Array(ProblemSchema), insights: Schema.Array(ProblemInsightsSchema)
  }),
  /** Top-K behaviors for each query problem. */
  Schema.TaggedStruct("Retrieve", { queries: Schema.Array(ProblemSchema), k: Schema.Int }),
  /** Memp bookkeeping: the top-1 behavior a teacher used, and whether the student then succeeded. */
  Schema.TaggedStruct("RecordUses", { uses: Schema.Array(Schema.Struct({ behaviorId: Schema.String, success: Schema.Boolean })) }),
  Schema.TaggedStruct("GetBank", {})
])
export type ConsolidatorIn = typeof ConsolidatorIn.Type
