/**
 * What one training step asks of the other actors, as typed requests and replies. The orchestrator
 * drives a step through these ports; `actorPorts` (Pipeline.ts) backs them with supervised actors and
 * `directPorts` with the same actors' behaviors run in place (the baseline of the actor-overhead
 * benchmark). Both give the same results: every port is deterministic in its request.
 *
 * Every request and reply is a record of the actors' protocols (src/protocol/): data only, no closure
 * and no live object, so what crosses a port could cross a process boundary unchanged.
 */
import type { Effect } from "effect"
import type { MemoryRestore, MemorySnapshot, MemoryStatus, ProblemView, RememberRequest, ViewQuery } from "../../src/protocol/memory.ts"
import type { LossKind, PolicyIn, PolicyState, Rehearsal, SampleRequest, SampleResult, UpdateRow, UpdateStats } from "../../src/protocol/policy.ts"
import type { VersionRef } from "../../src/protocol/records.ts"
import type { TeachReply, TeachRequest } from "../../src/protocol/teacher.ts"
import type { VerifyRequest, VerifyResult } from "../../src/protocol/verifier.ts"

export type { MemoryRestore, MemorySnapshot, MemoryStatus, ProblemView, RememberRequest, ViewQuery } from "../../src/protocol/memory.ts"
export type { TeachReply, TeachRequest } from "../../src/protocol/teacher.ts"

export interface SampleBatch {
  readonly requests: ReadonlyArray<SampleRequest>
  readonly maxNewTokens: number
  /** sample from the policy `lag` updates old (async rollouts) */
  readonly lag: number
  readonly greedy: boolean
}
export interface SampleReply {
  readonly results: ReadonlyArray<SampleResult>
  readonly policyVersion: number
}

/** A batch of the next step's rollouts to sample ahead, from the student of `version`. */
export type PrefetchBatch = Extract<PolicyIn, { readonly _tag: "Prefetch" }>["batches"][number]

/** A pinned, immutable memory version to read from: its number and id (data; views are asked for by message). */
export type MemoryRead = VersionRef

export interface UpdateRequest {
  readonly rows: ReadonlyArray<UpdateRow>
  readonly kind: LossKind
  readonly importance: boolean
  /** memory-conditioned sequences rehearsed by next-token loss (`memory.rehearsal`); absent = none */
  readonly rehearsal?: Rehearsal
  /** stored successes of problems not in the batch, learned under memory-free prompts (`memory.recall`); absent = none */
  readonly recall?: Rehearsal
}

export interface Ports {
  readonly sample: (b: SampleBatch) => Effect.Effect<SampleReply>
  readonly verify: (reqs: ReadonlyArray<VerifyRequest>) => Effect.Effect<ReadonlyArray<VerifyResult>>
  readonly remember: (r: RememberRequest) => Effect.Effect<MemoryStatus>
  /** pin the version `lag` commits before the newest */
  readonly readMemory: (lag: number) => Effect.Effect<MemoryRead>
  /** what a pinned version holds for some problems (each retrieved with the stream its query names) */
  readonly views: (version: MemoryRead, queries: ReadonlyArray<ViewQuery>) => Effect.Effect<ReadonlyArray<ProblemView>>
  readonly freezeMemory: Effect.Effect<MemoryStatus>
  /** a checkpoint's memory flags and Memp store, put back (resume, eval-noise) */
  readonly restoreMemory: (r: MemoryRestore) => Effect.Effect<MemoryStatus>
  readonly teach: (r: TeachRequest) => Effect.Effect<TeachReply>
  /** sample these next-step batches ahead while the update runs (pipelined execution; a no-op inline) */
  readonly prefetch: (batches: ReadonlyArray<PrefetchBatch>) => Effect.Effect<void>
  readonly update: (r: UpdateRequest) => Effect.Effect<UpdateStats & { readonly policyVersion: number }>
  readonly entropy: (prompts: ReadonlyArray<ReadonlyArray<number>>, responses: ReadonlyArray<ReadonlyArray<number>>) => Effect.Effect<number>
  readonly policyHash: Effect.Effect<string>
  /** the memory as data (for checkpoints, lineage and the per-step hash; PMD-Transient's is the step's own) */
  readonly exportMemory: Effect.Effect<MemorySnapshot>
  /** the policy's full state (for checkpoints) and its restoration (resume) */
  readonly exportPolicy: Effect.Effect<PolicyState>
  readonly importPolicy: (s: PolicyState) => Effect.Effect<void>
}
