/**
 * Messages between the policy actor and its rollout worker threads (pipelined execution, issue #17). Data
 * only: weight sets travel as named Float32Arrays under an id the policy chooses (`g<generation>/student@v`,
 * `.../teacher@v`, `.../reference`), jobs name the set they run on, and replies carry plain arrays.
 */
import { Schema } from "effect"
import { Float32, KeyPart, NonNegativeInt, Tokens, WeightsSchema } from "../../src/protocol/records.ts"

export const SampleOptionsSchema = Schema.Struct({
  temperature: Schema.Number,
  topK: Schema.Number,
  topP: Schema.Number,
  maxNewTokens: Schema.Int,
  stopTokens: Schema.Array(Schema.Int)
})
export type SampleOptionsData = typeof SampleOptionsSchema.Type

export const ToRollout = Schema.Union([
  /** keep this weight set under `id`, and forget the sets in `evict` (the policy mirrors what each worker holds) */
  Schema.TaggedStruct("Load", { id: Schema.String, weights: WeightsSchema, evict: Schema.Array(Schema.String) }),
  /** sample one response per row from set `weights`; each row's stream is Rng.root(seed).fork(...key) */
  Schema.TaggedStruct("Sample", {
    job: NonNegativeInt, weights: Schema.String, seed: Schema.Int,
    rows: Schema.Array(Schema.Struct({ prompt: Tokens, key: Schema.Array(KeyPart) })), options: SampleOptionsSchema
  }),
  /** the full log-prob vectors of each response under its context, from set `weights` */
  Schema.TaggedStruct("Score", { job: NonNegativeInt, weights: Schema.String, contexts: Schema.Array(Tokens), responses: Schema.Array(Tokens) })
])
export type ToRollout = typeof ToRollout.Type

export const FromRollout = Schema.Union([
  Schema.TaggedStruct("Ready", { worker: NonNegativeInt }),
  Schema.TaggedStruct("Sampled", {
    job: NonNegativeInt,
    results: Schema.Array(Schema.Struct({ tokens: Tokens, logProbs: Float32, sampleLogProbs: Float32, stopped: Schema.Boolean }))
  }),
  Schema.TaggedStruct("Scored", { job: NonNegativeInt, logProbs: Schema.Array(Float32) }),
  /** a job the worker could not run (an unknown weight set, a numeric input error): the policy runs it itself */
  Schema.TaggedStruct("Failed", { job: NonNegativeInt, message: Schema.String })
])
export type FromRollout = typeof FromRollout.Type
