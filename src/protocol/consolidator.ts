/**
 * Inbox and replies of the consolidator actor (actors/consolidator). Problems travel as tokens (the
 * actor embeds them with its fixed embedder and caches the vectors by id); insights and behaviors use
 * the shared record schemas (records.ts).
 */
import { Schema } from "effect"
import { BehaviorBankSchema, BehaviorSchema, ProblemInsightsSchema, Tokens } from "./records.ts"

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

export const ConsolidatorOut = Schema.Union([
  Schema.TaggedStruct("Consolidated", {
    created: Schema.Int, updated: Schema.Int, removed: Schema.Int, size: Schema.Int, clusters: Schema.Int
  }),
  Schema.TaggedStruct("Retrieved", {
    results: Schema.Array(Schema.Struct({
      problemId: Schema.String, behaviors: Schema.Array(Schema.Struct({ behavior: BehaviorSchema, score: Schema.Number }))
    }))
  }),
  Schema.TaggedStruct("Bank", { bank: BehaviorBankSchema }),
  Schema.TaggedStruct("Recorded", {})
])
export type ConsolidatorOut = typeof ConsolidatorOut.Type

/** A message the consolidator refuses (bad k, a plug-in breaking its contract): a typed failure of the ask. */
export class ConsolidatorInputError extends Schema.TaggedError<ConsolidatorInputError>()("ConsolidatorInputError", { problem: Schema.String }) {}
