/**
 * Divergences between a student and a teacher over a support, as in SDPO's distillation loss.
 *
 * Sources: LAS (lasgroup/SDPO) verl/trainer/ppo/core_algos.py compute_self_distillation_loss; TRL
 * trl/experimental/sdpo/loss_utils.py (compute_divergence, add_tail_bucket, top-k support). With s and
 * t the student's and teacher's log-probs over the support (algorithms.md §2b):
 *   alpha = 0:  forward KL  sum p_T (log p_T - log p_S)
 *   alpha = 1:  reverse KL  sum p_S (log p_S - log p_T)
 *   else:       generalized JSD (1 - alpha) KL(p_S || M) + alpha KL(p_T || M),
 *               log M = logsumexp(s + log(1 - alpha), t + log alpha)
 * Top-k support: the *student's* top-k indices (detached; ties go to the lower token id), the teacher
 * read at the same indices; then either a tail bucket log(1 - sum_k p) (clamped below log 1 = 0 at
 * -1e-7, as both references do) or renormalisation of the k entries by logsumexp. The support is a
 * multi-hot mask over V rather than gathered [k] vectors (same sums, O(B R V) memory, no gather).
 * Departure: k >= V is the full vocabulary with no tail bucket. The references would append a tail
 * whose mass is float noise (~1e-7), and its log has O(1) relative error and a ~1e7 derivative.
 */
import { tf } from "../tf.ts"
import type { Dims } from "./common.ts"

/**
 * Per-position divergence summed over the last axis. s, t: [..., K] log-probs (t constant); `mask`
 * (same shape, constant 0/1) restricts the sum to a support, entries outside it must be finite. -> [...]
 */
export const divergence = (s: tf.Tensor, t: tf.Tensor, alpha: number, mask?: tf.Tensor): tf.Tensor => {
  const sum = (x: tf.Tensor): tf.Tensor => (mask === undefined ? x : x.mul(mask)).sum(-1)
  if (alpha === 0) return sum(t.exp().mul(t.sub(s)))
  if (alpha === 1) return sum(s.exp().mul(s.sub(t)))
  const logM = tf.logSumExp(tf.stack([s.add(Math.log(1 - alpha)), t.add(Math.log(alpha))]), 0) // [..., K]
  const klS = sum(s.exp().mul(s.sub(logM)))
  const klT = sum(t.exp().mul(t.sub(logM)))
  return klS.mul(1 - alpha).add(klT.mul(alpha))
}

/** log sum over the support of exp(lp), keepDims. [..., V] x mask [..., V] -> [..., 1] */
export const maskedLogSumExp = (lp: tf.Tensor, mask: tf.Tensor): tf.Tensor => {
  const m = tf.max(lp.add(mask.sub(1).mul(1e9)), -1, true) // the support's max (off-support pushed to -1e9)
  return m.add(lp.sub(m).exp().mul(mask).sum(-1, true).log())
}

/** The tail bucket log(1 - P(support)), clamped as in the references. [..., V] -> [..., 1] */
export const tailLogProb = (lp: tf.Tensor, mask: tf.Tensor): tf.Tensor => {
  const logS = tf.minimum(maskedLogSumExp(lp, mask), -1e-7) // captured mass, kept below 1
  return tf.expm1(logS).neg().log() // log(1 - exp(logS)), stable for logS near 0
}

/**
 * Divergence over a top-k support given as a multi-hot mask [B, R, V] (no [k, V] selector is built,
 * the support's order does not matter to a sum): with a tail bucket, or renormalised on the support.
 * s, t: [B, R, V] log-probs. -> [B, R]
 */
export const supportDivergence = (s: tf.Tensor, t: tf.Tensor, mask: tf.Tensor, alpha: number, addTail: boolean): tf.Tensor => {
  if (addTail) {
    const tails = divergence(tailLogProb(s, mask), tailLogProb(t, mask), alpha) // [B, R] from one bin
    return divergence(s, t, alpha, mask).add(tails)
  }
  return divergence(s.sub(maskedLogSumExp(s, mask)), t.sub(maskedLogSumExp(t, mask)), alpha, mask)
}

/**
 * Indices [B*R*k] of the k largest entries of each row of `values` [B*R*V] (host data), largest first,
 * ties broken by the lower index, so the support is a pure function of the values.
 */
export const topkIndices = (values: Float32Array, d: Dims, k: number): Int32Array => {
  const rows = d.B * d.R
  const out = new Int32Array(rows * k)
  const order = new Array<number>(d.V)
  for (let row = 0; row < rows; row++) {
    const base = row * d.V
    for (let v = 0; v < d.V; v++) order[v] = v
    order.sort((a, b) => values[base + b]! - values[base + a]! || a - b)
    for (let j = 0; j < k; j++) out[row * k + j] = order[j]!
  }
  return out
}

/** A constant multi-hot mask [B, R, V] of each position's k support indices. */
export const supportMask = (indices: Int32Array, d: Dims, k: number): tf.Tensor3D => {
  const m = new Float32Array(d.B * d.R * d.V)
  for (let row = 0; row < d.B * d.R; row++) for (let j = 0; j < k; j++) m[row * d.V + indices[row * k + j]!] = 1
  return tf.tensor3d(m, [d.B, d.R, d.V])
}
