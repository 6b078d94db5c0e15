/**
 * Inbox and reply of the teacher actor (actors/teacher): score the student's rollouts under their
 * memory-conditioned contexts. The request names the memory version to read (or none: SDPO); the teacher
 * asks the memory actor for that version's views by message and the policy actor for the scores.
 */
import { Schema } from "effect"
import { Float32, Tokens, VersionRef } from "./records.ts"

export const TeachItem = Schema.Struct({
  rolloutId: Schema.String,
  problemId: Schema.String,
  /** index of the rollout inside its group */
  index: Schema.Int,
  prompt: Tokens,
  response: Tokens,
  reward: Schema.Number,
  feedback: Tokens
})
export type TeachItem = typeof TeachItem.Type

/**
 * What a rollout's teacher context rests on (diagnostics only, never hashed): a successful sibling; else a
 * stored success from memory (PMD); else the rollout's own failure feedback (possibly with stored
 * failures); else other memory blocks only; else nothing (masked out). `contextKinds` is the report order.
 */
export const contextKinds = ["sibling", "stored", "feedback", "memory", "none"] as const
export const ContextKind = Schema.Literals(contextKinds)
export type ContextKind = typeof ContextKind.Type

export const TeachRequest = Schema.Struct({
  items: Schema.Array(TeachItem),
  /** null: SDPO (no memory, only the current batch's sibling / feedback) */
  memory: Schema.NullOr(VersionRef),
  step: Schema.Int
})
export type TeachRequest = typeof TeachRequest.Type

export const TeachReply = Schema.Struct({
  /** per item, in request order: teacher log-probs [n * V] or null (masked) */
  teacherLogp: Schema.Array(Schema.NullOr(Float32)),
  /** per item: the top-1 behavior the teacher saw (Memp bookkeeping), null when none */
  topBehavior: Schema.Array(Schema.NullOr(Schema.String)),
  /** the memory version the teacher read (seq), or -1 without memory */
  memorySeq: Schema.Int,
  /** per item: what its context rests on (diagnostics only, never hashed) */
  kinds: Schema.Array(ContextKind),
  /** per item: ids of the memory items its context rendered, read from `memorySeq` (lineage only, never hashed) */
  refs: Schema.Array(Schema.Array(Schema.String))
})
export type TeachReply = typeof TeachReply.Type

export const TeacherIn = Schema.Union([Schema.TaggedStruct("Teach", { request: TeachRequest })])
export type TeacherIn = typeof TeacherIn.Type
