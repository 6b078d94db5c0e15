/**
 * Lays a batch of rollouts out for the losses, without tfjs.
 *
 * The losses of src/numeric/losses take logits [B, R, V] aligned to targets. We align on the whole
 * (prompt ++ response) sequence instead of slicing per-row response windows: logits at position t
 * predict token t+1, and `responseMask` is 1 exactly where that token is a response token. Rows of
 * different prompt lengths then need no gather (wasm has no gather gradient) and no selection matmul;
 * prompt positions simply carry mask 0. Teacher log-probs, scored on the teacher's own (longer)
 * context, are scattered to the same positions.
 */

import type { BatchScope } from "../../src/numeric/losses/index.ts"
import type { UpdateRow } from "../../src/protocol/policy.ts"

/** One rollout as the update sees it: the policy protocol's record (data). */
export type { UpdateRow } from "../../src/protocol/policy.ts"

export interface AlignedBatch {
  readonly B: number
  readonly T: number
  readonly V: number
  /** input sequences [B*T], right-padded with `pad` */
  readonly tokens: Int32Array
  /** target of position t = token t+1 ([B*T], pad where none) */
  readonly targets: Int32Array
  readonly responseMask: Float32Array
  readonly oldLogp: Float32Array
  /** dense [B*T*V]; zero rows where no teacher */
  readonly teacherLogp: Float32Array
  readonly teacherMask: Float32Array
  /** log pi_ref of each target [B*T] (0 off the response), for the KL to the base; present when `grpo.beta` > 0 */
  readonly refLogp?: Float32Array
  readonly rewards: Float32Array
  readonly groups: Int32Array
  /** number of response tokens in the batch */
  readonly responseTokens: number
}

/** Aligns rows; T is the longest prompt+response rounded up to a multiple of 8. */
export const alignBatch = (rows: ReadonlyArray<UpdateRow>, V: number, pad = 0): AlignedBatch => {
  const B = rows.length
  const longest = Math.max(2, ...rows.map((r) => r.prompt.length + r.response.length))
  const T = Math.ceil(longest / 8) * 8
  const tokens = new Int32Array(B * T).fill(pad)
  const targets = new Int32Array(B * T).fill(pad)
  const responseMask = new Float32Array(B * T)
  const oldLogp = new Float32Array(B * T)
  const teacherLogp = new Float32Array(B * T * V)
  const teacherMask = new Float32Array(B)
  const rewards = new Float32Array(B)
  const groups = new Int32Array(B)
  let responseTokens = 0
  rows.forEach((r, b) => {
    const P = r.prompt.length
    const n = r.response.length
    if (r.oldLogp.length !== n) throw new RangeError(`alignBatch: row ${b} has ${n} tokens but ${r.oldLogp.length} log-probs`)
    tokens.set(r.prompt, b * T)
    tokens.set(r.response, b * T + P)
    for (let i = 0; i < n; i++) {
      const t = b * T + P - 1 + i // position predicting response token i
      targets[t] = r.response[i]!
      responseMask[t] = 1
      oldLogp[t] = r.oldLogp[i]!
    }
    for (let t = 0; t < P - 1; t++) targets[b * T + t] = r.prompt[t + 1]!
    responseTokens += n
    rewards[b] = r.reward
    groups[b] = r.group
    if (r.teacherLogp !== null) {
      if (r.teacherLogp.length !== n * V) throw new RangeError(`alignBatch: row ${b} teacher has ${r.teacherLogp.length} values, want ${n * V}`)
      teacherMask[b] = 1
      teacherLogp.set(r.teacherLogp, (b * T + P - 1) * V)
    }
  })
  return { B, T, V, tokens, targets, responseMask, oldLogp, teacherLogp, teacherMask, rewards, groups, responseTokens }
}

/** The batch with the reference's log-prob of each response token (`perRow[b]`: row b's, one per token). */
export const withReferenceLogp = (batch: AlignedBatch, rows: ReadonlyArray<UpdateRow>, perRow: ReadonlyArray<Float32Array>): AlignedBatch => {
  const refLogp = new Float32Array(batch.B * batch.T)
  rows.forEach((r, b) => {
    const row = perRow[b]!
    if (row.length !== r.response.length) throw new RangeError(`withReferenceLogp: row ${b} has ${r.response.length} tokens but ${row.length} reference log-probs`)
    refLogp.set(row, b * batch.T + r.prompt.length - 1)
  })
  return { ...batch, refLogp }
}

/** What a micro-batch carries from its whole batch: the group advantages and the aggregation scopes. */
export interface MicroContext {
  readonly advantages: Float32Array
  readonly scope: { readonly response: BatchScope; readonly distill: BatchScope }
}

/** The scopes of a whole batch: its rows and active tokens, over the response mask and over rows with a teacher. */
export const batchScopes = (batch: AlignedBatch): MicroContext["scope"] => {
  let response = 0
  let distill = 0
  for (let i = 0; i < batch.responseMask.length; i++) {
    response += batch.responseMask[i]!
    distill += batch.responseMask[i]! * batch.teacherMask[Math.floor(i / batch.T)]!
  }
  return { response: { rows: batch.B, activeTokens: response }, distill: { rows: batch.B, activeTokens: distill } }
}

/** Rows [lo, hi) of an aligned batch (same T), as a batch of their own. */
export const sliceBatch = (batch: AlignedBatch, lo: number, hi: number): AlignedBatch => {
  const { T, V } = batch
  const responseMask = batch.responseMask.slice(lo * T, hi * T)
  return {
    B: hi - lo, T, V,
    tokens: batch.tokens.slice(lo * T, hi * T),
    targets: batch.targets.slice(lo * T, hi * T),
    responseMask,
    oldLogp: batch.oldLogp.slice(lo * T, hi * T),
    teacherLogp: batch.teacherLogp.slice(lo * T * V, hi * T * V),
    teacherMask: batch.teacherMask.slice(lo, hi),
    ...(batch.refLogp === undefined ? {} : { refLogp: batch.refLogp.slice(lo * T, hi * T) }),
    rewards: batch.rewards.slice(lo, hi),
    groups: batch.groups.slice(lo, hi),
    responseTokens: responseMask.reduce((a, m) => a + m, 0)
  }
}

/** [lo, hi) ranges splitting n rows into `parts` contiguous ranges, as equal as can be (the first ones shorter). */
export const rowRanges = (n: number, parts: number): Array<readonly [number, number]> =>
  Array.from({ length: parts }, (_, i) => [Math.floor((n * i) / parts), Math.floor((n * (i + 1)) / parts)] as const)
