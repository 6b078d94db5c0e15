/**
 * Inbox and replies of the policy actor (actors/policy): sampling, teacher scoring, entropy, the update,
 * and the policy's full state for checkpoints. Everything is data (token arrays, Float32Array log-probs,
 * weights as named Float32Arrays): the reply of `Export` is what a checkpoint writer serialises.
 */
import { Schema } from "effect"
import { Float32, KeyPart, NonNegativeInt, Tokens, WeightsSchema } from "./records.ts"

/** One row to sample: the prompt and its stream key (results never depend on batch composition). */
export const SampleRequest = Schema.Struct({ prompt: Tokens, key: Schema.Array(KeyPart) })
export type SampleRequest = typeof SampleRequest.Type

/** One sampled response (src/numeric SampleResult). */
export const SampleResult = Schema.Struct({ tokens: Tokens, logProbs: Float32, sampleLogProbs: Float32, stopped: Schema.Boolean })
export type SampleResult = typeof SampleResult.Type

/** One rollout as the update sees it (actors/policy/batch.ts UpdateRow). */
export const UpdateRow = Schema.Struct({
  prompt: Tokens, response: Tokens, oldLogp: Schema.Array(Schema.Number), reward: Schema.Number, group: Schema.Int,
  teacherLogp: Schema.NullOr(Float32)
})
export type UpdateRow = typeof UpdateRow.Type

/**
 * Rehearsal (`memory.rehearsal`): sequences the student also learns by next-token loss, each a successful
 * response under its problem's memory-conditioned prompt, so the network keeps the skill of reading memory
 * it serves the teacher with (actors/orchestrator/rehearsal.ts). `weight` scales their token-mean loss.
 */
export const RehearsalRow = Schema.Struct({ prompt: Tokens, response: Tokens })
export type RehearsalRow = typeof RehearsalRow.Type
export const Rehearsal = Schema.Struct({ rows: Schema.Array(RehearsalRow), weight: Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0)) })
export type Rehearsal = typeof Rehearsal.Type

export const LossKind = Schema.Literals(["grpo", "distill"])
export type LossKind = typeof LossKind.Type

export const UpdateStats = Schema.Struct({ loss: Schema.Number, gradNorm: Schema.Number, lr: Schema.Number, skipped: Schema.Boolean })
export type UpdateStats = typeof UpdateStats.Type

/** Everything a checkpoint must hold for a bit-identical resume (src/numeric AdamStateData for `adam`). */
export const PolicyState = Schema.Struct({
  version: NonNegativeInt,
  student: WeightsSchema,
  adam: Schema.Struct({
    step: Schema.Int, names: Schema.Array(Schema.String), m: Schema.Array(Float32), v: Schema.Array(Float32), decay: Schema.Array(Schema.String)
  }),
  teacher: Schema.NullOr(WeightsSchema),
  history: Schema.Array(Schema.Struct({ version: Schema.Int, weights: WeightsSchema }))
})
export type PolicyState = typeof PolicyState.Type

export const PolicyIn = Schema.Union([
  /** Sample one response per request from the policy `lag` updates old (async rollouts). */
  Schema.TaggedStruct("Sample", { requests: Schema.Array(SampleRequest), maxNewTokens: Schema.Int, lag: NonNegativeInt, greedy: Schema.Boolean }),
  /**
   * Sample these next-step batches ahead, each from the student of `version`, while the learner updates
   * (pipelined execution; nothing to do inline). A later `Sample` asking exactly that takes the result.
   */
  Schema.TaggedStruct("Prefetch", {
    batches: Schema.Array(Schema.Struct({ requests: Schema.Array(SampleRequest), maxNewTokens: Schema.Int, version: NonNegativeInt, greedy: Schema.Boolean }))
  }),
  /** Teacher log-prob vectors [n * V] of each response under its context. */
  Schema.TaggedStruct("ScoreTeacher", { contexts: Schema.Array(Tokens), responses: Schema.Array(Tokens) }),
  Schema.TaggedStruct("Entropy", { prompts: Schema.Array(Tokens), responses: Schema.Array(Tokens) }),
  /** `rehearsal` and `recall`: sequences learned by next-token loss besides the rows (each its own weight) */
  Schema.TaggedStruct("Update", {
    rows: Schema.Array(UpdateRow), kind: LossKind, importance: Schema.Boolean, rehearsal: Schema.optionalKey(Rehearsal), recall: Schema.optionalKey(Rehearsal)
  }),
  Schema.TaggedStruct("Hash", {}),
  Schema.TaggedStruct("Export", {}),
  Schema.TaggedStruct("Import", { state: PolicyState })
])
export type PolicyIn = typeof PolicyIn.Type

export const PolicyOut = Schema.Union([
  Schema.TaggedStruct("Sampled", { results: Schema.Array(SampleResult), policyVersion: Schema.Int }),
  Schema.TaggedStruct("Scored", { logp: Schema.Array(Float32) }),
  Schema.TaggedStruct("Entropy", { entropy: Schema.Number }),
  Schema.TaggedStruct("Updated", { stats: UpdateStats, policyVersion: Schema.Int }),
  Schema.TaggedStruct("Hash", { hash: Schema.String }),
  Schema.TaggedStruct("State", { state: PolicyState }),
  Schema.TaggedStruct("Done", {})
])
export type PolicyOut = typeof PolicyOut.Type
