/**
 * Messages between the policy actor and its rollout worker threads (pipelined execution, issue #17). Data
 * only: weight sets travel as named Float32Arrays under an id the policy chooses (`g<generation>/student@v`,
 * `.../teacher@v`, `.../reference`), jobs name the set they run on, and replies carry plain arrays.
 */
import { Schema } from "effect"
import { Float32, KeyPart, NonNegativeInt, Tokens, WeightsSchema } from "../../src/protocol/records.ts"

const Int32 = Schema.declare<Int32Array>((u): u is Int32Array => u instanceof Int32Array, { identifier: "Int32Array" })
const Scope = Schema.Struct({ rows: NonNegativeInt, activeTokens: Schema.Number })

/** One micro-batch of an update (actors/policy/batch.ts AlignedBatch and MicroContext), as data. */
export const MicroBatchSchema = Schema.Struct({
  batch: Schema.Struct({
    B: NonNegativeInt, T: NonNegativeInt, V: NonNegativeInt, tokens: Int32, targets: Int32, responseMask: Float32, oldLogp: Float32,
    teacherLogp: Float32, teacherMask: Float32, refLogp: Schema.optionalKey(Float32), rewards: Float32, groups: Int32,
    responseTokens: Schema.Number
  }),
  context: Schema.Struct({ advantages: Float32, scope: Schema.Struct({ response: Scope, distill: Scope }) })
})

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
  /** one micro-batch's share of the update's loss and its gradients, on set `weights` (the student) */
  Schema.TaggedStruct("Grad", {
    job: NonNegativeInt, weights: Schema.String, kind: Schema.Literals(["grpo", "distill"]), importance: Schema.Boolean, micro: MicroBatchSchema
  }),
  /** the full log-prob vectors of each response under its context, from set `weights` */
  Schema.TaggedStruct("Score", { job: NonNegativeInt, weights: Schema.String, contexts: Schema.Array(Tokens), responses: Schema.Array(Tokens) })
])
export type ToRollout = typeof ToRollout.Type

/** `busyMs`: the worker's wall time on the job (for the trace only: never part of a result) */
export const FromRollout = Schema.Union([
  Schema.TaggedStruct("Ready", { worker: NonNegativeInt }),
  Schema.TaggedStruct("Sampled", {
    job: NonNegativeInt,
    busyMs: Schema.Number,
    results: Schema.Array(Schema.Struct({ tokens: Tokens, logProbs: Float32, sampleLogProbs: Float32, stopped: Schema.Boolean }))
  }),
  Schema.TaggedStruct("Scored", { job: NonNegativeInt, busyMs: Schema.Number, logProbs: Schema.Array(Float32) }),
  Schema.TaggedStruct("Grads", {
    job: NonNegativeInt, busyMs: Schema.Number, loss: Schema.Number, grads: Schema.Array(Schema.Struct({ name: Schema.String, values: Float32 }))
  }),
  /** a job the worker could not run (an unknown weight set, a numeric input error): the policy runs it itself */
  Schema.TaggedStruct("Failed", { job: NonNegativeInt, message: Schema.String })
])
export type FromRollout = typeof FromRollout.Type
