/**
 * Messages of the verifier pool, as Effect Schemas: the pool's inbox and results (what the training loop
 * sends and receives), and the wire messages between the pool and its worker threads.
 *
 * A result never carries attempt counts or worker ids: those depend on faults and scheduling, and results
 * must be identical for 1 or N workers and with or without transient faults. They go to `PoolStats`.
 */
import { Schema } from "effect"

export const RolloutId = Schema.NonEmptyString
export const ProblemId = Schema.NonEmptyString
export const Protocol = Schema.Literals(["train", "eval"])
export const ErrorKind = Schema.Literals(["parse", "fuel", "size", "div0", "toolong"])

/** One rollout to verify. Rollout ids are unique within a batch and name the result. */
export const VerifyRequest = Schema.Struct({
  rolloutId: RolloutId,
  problemId: ProblemId,
  protocol: Protocol,
  response: Schema.Array(Schema.Int)
})
export type VerifyRequest = typeof VerifyRequest.Type

/** Wire form of a domain Verdict (src/domains/Domain.ts). */
export const VerdictSchema = Schema.Struct({
  reward: Schema.Number.check(Schema.isBetween({ minimum: 0, maximum: 1 })),
  passed: Schema.Int,
  total: Schema.Int,
  solved: Schema.Boolean,
  feedback: Schema.Array(Schema.Int),
  error: Schema.optionalKey(ErrorKind)
})

export const Verified = Schema.TaggedStruct("Verified", {
  rolloutId: RolloutId,
  problemId: ProblemId,
  verdict: VerdictSchema
})
export type Verified = typeof Verified.Type

/** Why a check was given up after `attemptsMax` attempts (the reason of the last attempt). */
export const FailReason = Schema.Literals(["timeout", "crashed", "corrupt"])
export type FailReason = typeof FailReason.Type

export const VerifyFailed = Schema.TaggedStruct("VerifyFailed", {
  rolloutId: RolloutId,
  problemId: ProblemId,
  reason: FailReason
})
export type VerifyFailed = typeof VerifyFailed.Type

export const VerifyResult = Schema.Union([Verified, VerifyFailed])
export type VerifyResult = typeof VerifyResult.Type

/** The pool actor's inbox: one batch per training step; the reply is one result per request, by rollout id. */
export const VerifyBatch = Schema.TaggedStruct("VerifyBatch", { requests: Schema.Array(VerifyRequest) })
export const VerifierIn = Schema.Union([VerifyBatch])
export type VerifierIn = typeof VerifierIn.Type

/** A batch the pool refuses as a whole: a repeated rollout id or a problem id the domain never generated. */
export class InvalidBatch extends Schema.TaggedError<InvalidBatch>()("InvalidBatch", {
  reason: Schema.Literals(["duplicateRolloutId", "unknownProblem"]),
  rolloutId: Schema.String,
  problemId: Schema.String
}) {
  override get message(): string {
    return this.reason === "duplicateRolloutId"
      ? `verifier: rollout id '${this.rolloutId}' appears more than once in the batch`
      : `verifier: rollout '${this.rolloutId}' names unknown problem '${this.problemId}'`
  }
}

/** What an injected fault makes a worker do with one check (see faults.ts). */
export const Fault = Schema.Literals(["none", "crash", "hang", "slow", "flaky"])
export type Fault = typeof Fault.Type

/** One check inside a chunk. `fault` is decided by the pool from (rolloutId, attempt). */
export const CheckItem = Schema.Struct({ jobId: Schema.Int, request: VerifyRequest, fault: Fault })
export type CheckItem = typeof CheckItem.Type

/**
 * Pool -> worker: run these checks in order and answer once for all of them. Chunks amortise the
 * per-message cost (a round trip and a schema decode cost more than a check); a chunk that fails as a
 * whole is re-run one check at a time, so a fault is always charged to the check that drew it.
 */
export const CheckChunk = Schema.TaggedStruct("CheckChunk", {
  chunkId: Schema.Int,
  items: Schema.Array(CheckItem),
  slowMillis: Schema.Int
})
export type CheckChunk = typeof CheckChunk.Type

/** Worker -> pool. Each `digest` is taken over the verdict where it was computed; the pool re-checks it. */
export const FromWorker = Schema.Union([
  Schema.TaggedStruct("Ready", { fingerprint: Schema.String }),
  Schema.TaggedStruct("CheckedChunk", {
    chunkId: Schema.Int,
    items: Schema.Array(Schema.Struct({ jobId: Schema.Int, verdict: VerdictSchema, digest: Schema.String }))
  })
])
export type FromWorker = typeof FromWorker.Type

/** The pool actor's reply to a `VerifyBatch`: one result per request, in rollout-id order. */
export const VerifierOut = Schema.Array(VerifyResult)
export type VerifierOut = typeof VerifierOut.Type
