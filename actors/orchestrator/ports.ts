/**
 * What one training step asks of the other actors, as typed requests and replies. The orchestrator
 * drives a step through these ports; `actorPorts` (Pipeline.ts) backs them with supervised actors and
 * `directPorts` with plain calls (the baseline of the actor-overhead benchmark). Both give the same
 * results: every port is deterministic in its request.
 */
import type { Effect } from "effect"
import type { Rng } from "../../src/core/Rng.ts"
import type { SampleResult } from "../../src/numeric/index.ts"
import type { MemoryView } from "../../src/memory/retrieval/compose.ts"
import type { RolloutGroup } from "../../src/memory/pipeline.ts"
import type { MempOutcome } from "../../src/memory/memp/memp.ts"
import type { VerifyRequest, VerifyResult } from "../verifier/protocol.ts"
import type { LossKind } from "../policy/loss.ts"
import type { PolicyState, SampleRequest, UpdateStats } from "../policy/PolicyModel.ts"
import type { UpdateRow } from "../policy/batch.ts"
import type { ContextKind, TeachItem } from "../teacher/contexts.ts"
import type { MemoryKeeper, MemorySizes } from "../memory/keeper.ts"

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

export interface RememberRequest {
  readonly groups: ReadonlyArray<RolloutGroup>
  readonly step: number
  readonly policyVersion: number
  readonly consolidate: boolean
  /** PMD-Transient: build this step's memory from scratch (the batch only) */
  readonly fresh: boolean
  readonly outcomes: ReadonlyArray<MempOutcome & { readonly behaviorId?: string }>
}
export interface MemoryStatus {
  /** newest version (seq 0 = empty) and its content id */
  readonly newest: { readonly seq: number; readonly id: string }
  readonly sizes: MemorySizes
  readonly contentId: string
}

/** A pinned, immutable memory version to read from. */
export interface MemoryRead {
  readonly seq: number
  readonly id: string
  readonly viewOf: (problemId: string, rng: Rng) => { view: MemoryView; topBehavior?: string }
}

export interface TeachRequest {
  readonly items: ReadonlyArray<TeachItem>
  /** null: SDPO (no memory, only the current batch's sibling / feedback) */
  readonly memory: MemoryRead | null
  readonly step: number
}
export interface TeachReply {
  /** per item, in request order: teacher log-probs [n * V] or null (masked) */
  readonly teacherLogp: ReadonlyArray<Float32Array | null>
  /** per item: the top-1 behavior the teacher saw (Memp bookkeeping) */
  readonly topBehavior: ReadonlyArray<string | undefined>
  /** the memory version the teacher read (seq), or -1 without memory */
  readonly memorySeq: number
  /** per item: what its context rests on (diagnostics only, never hashed) */
  readonly kinds: ReadonlyArray<ContextKind>
  /** per item: ids of the memory items its context rendered, read from `memorySeq` (lineage only, never hashed; absent: not recorded) */
  readonly refs?: ReadonlyArray<ReadonlyArray<string>>
}

export interface UpdateRequest {
  readonly rows: ReadonlyArray<UpdateRow>
  readonly kind: LossKind
  readonly importance: boolean
}

export interface Ports {
  readonly sample: (b: SampleBatch) => Effect.Effect<SampleReply>
  readonly verify: (reqs: ReadonlyArray<VerifyRequest>) => Effect.Effect<ReadonlyArray<VerifyResult>>
  readonly remember: (r: RememberRequest) => Effect.Effect<MemoryStatus>
  /** pin the version `lag` commits before the newest */
  readonly readMemory: (lag: number) => Effect.Effect<MemoryRead>
  readonly freezeMemory: Effect.Effect<MemoryStatus>
  readonly teach: (r: TeachRequest) => Effect.Effect<TeachReply>
  readonly update: (r: UpdateRequest) => Effect.Effect<UpdateStats & { readonly policyVersion: number }>
  readonly entropy: (prompts: ReadonlyArray<ReadonlyArray<number>>, responses: ReadonlyArray<ReadonlyArray<number>>) => Effect.Effect<number>
  readonly policyHash: Effect.Effect<string>
  /** the keeper the memory actor holds now (for checkpoints; PMD-Transient replaces it every step) */
  readonly keeper: Effect.Effect<MemoryKeeper>
  /** the policy's full state (for checkpoints) and its restoration (resume) */
  readonly exportPolicy: Effect.Effect<PolicyState>
  readonly importPolicy: (s: PolicyState) => Effect.Effect<void>
}
