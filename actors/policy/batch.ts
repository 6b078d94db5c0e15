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
