/**
 * Inbox and replies of the memory actor (actors/memory): one step's writes (experience, then the
 * reflector's insights and the consolidator's bank), pinning a version to read, the teacher's views of
 * a pinned version, and the memory's state as data for checkpoints and lineage.
 *
 * A read is a version (seq, id), never a handle on the live memory: whoever needs what a version holds
 * asks for it by message (`Views`), naming the version and each problem's retrieval stream, so the
 * answer depends on the message alone, whatever the memory has committed since.
 */
import { Schema } from "effect"
import {
  MempStoreSchema, MemoryStateSchema, MemoryViewSchema, NonNegativeInt, ProvenanceSchema, StreamKey, Tokens, VersionRef
} from "./records.ts"

/** The verified rollouts of one problem (src/memory/pipeline.ts RolloutGroup). */
export const RolloutGroup = Schema.Struct({
  problemId: Schema.String,
  attempts: Schema.Array(Schema.Struct({ response: Tokens, feedback: Tokens, success: Schema.Boolean, prov: ProvenanceSchema }))
})
export type RolloutGroup = typeof RolloutGroup.Type

/** What a rollout's teacher used and how the student fared (Memp bookkeeping, PMD behavior hits). */
export const Outcome = Schema.Struct({
  problemId: Schema.String, query: Tokens, response: Tokens, success: Schema.Boolean, prov: ProvenanceSchema,
  /** the top-1 Memp item the episode used */
  usedId: Schema.optionalKey(Schema.String),
  /** the top-1 PMD behavior the episode used */
  behaviorId: Schema.optionalKey(Schema.String)
})
export type Outcome = typeof Outcome.Type

export const RememberRequest = Schema.Struct({
  groups: Schema.Array(RolloutGroup),
  step: NonNegativeInt,
  policyVersion: NonNegativeInt,
  /** consolidate into behaviors this step (the slow clock) */
  consolidate: Schema.Boolean,
  /** PMD-Transient: build this step's memory from scratch (the batch only) */
  fresh: Schema.Boolean,
  /** the previous step's outcomes */
  outcomes: Schema.Array(Outcome)
})
export type RememberRequest = typeof RememberRequest.Type

export const MemorySizes = Schema.Struct({ experience: NonNegativeInt, insights: NonNegativeInt, behaviors: NonNegativeInt })
export type MemorySizes = typeof MemorySizes.Type

export const MemoryStatus = Schema.Struct({
  /** newest version (seq 0 = empty) and its content id */
  newest: VersionRef,
  sizes: MemorySizes,
  /** the newest version with the Memp store when in use: part of the per-step state hash */
  contentId: Schema.String
})
export type MemoryStatus = typeof MemoryStatus.Type

/** One problem whose view a reader wants, with the stream its retrieval draws from. */
export const ViewQuery = Schema.Struct({ problemId: Schema.String, stream: StreamKey })
export type ViewQuery = typeof ViewQuery.Type

/** A problem's view at the pinned version and the top-1 behavior it shows (null: none). */
export const ProblemView = Schema.Struct({ problemId: Schema.String, view: MemoryViewSchema, topBehavior: Schema.NullOr(Schema.String) })
export type ProblemView = typeof ProblemView.Type

/**
 * The memory as data: its newest version, whether it is frozen, its content (the three levels and the
 * newest Memp store). What a checkpoint writes and what lineage diffs step to step.
 */
export const MemorySnapshot = Schema.Struct({
  newest: VersionRef,
  frozen: Schema.Boolean,
  contentId: Schema.String,
  sizes: MemorySizes,
  state: MemoryStateSchema,
  memp: MempStoreSchema
})
export type MemorySnapshot = typeof MemorySnapshot.Type

/**
 * A checkpoint's memory flags and newest Memp store, put back into a memory rebuilt over the checkpoint's
 * snapshot store (a resume, `eval-noise`, a fork's replay): the versions themselves are in the store.
 */
export const MemoryRestore = Schema.Struct({ frozen: Schema.Boolean, memp: MempStoreSchema })
export type MemoryRestore = typeof MemoryRestore.Type

export const MemoryIn = Schema.Union([
  Schema.TaggedStruct("Remember", { request: RememberRequest }),
  /** pin the version `lag` commits before the newest (clamped at the oldest) */
  Schema.TaggedStruct("Read", { lag: NonNegativeInt }),
  /** the views of some problems at a pinned version, in query order */
  Schema.TaggedStruct("Views", { version: VersionRef, queries: Schema.Array(ViewQuery) }),
  /** Frozen-Memory: ignore every later write */
  Schema.TaggedStruct("Freeze", {}),
  /** a checkpoint's flags and Memp store (MemoryRestore); the reply is the status after it */
  Schema.TaggedStruct("Restore", { restore: MemoryRestore }),
  Schema.TaggedStruct("Status", {}),
  Schema.TaggedStruct("Export", {})
])
export type MemoryIn = typeof MemoryIn.Type

export const MemoryOut = Schema.Union([
  Schema.TaggedStruct("Status", { status: MemoryStatus }),
  Schema.TaggedStruct("Read", { read: VersionRef }),
  Schema.TaggedStruct("Views", { views: Schema.Array(ProblemView) }),
  Schema.TaggedStruct("Snapshot", { snapshot: MemorySnapshot })
])
export type MemoryOut = typeof MemoryOut.Type
