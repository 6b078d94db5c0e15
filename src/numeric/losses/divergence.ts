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
 * -1e-7, as both references do) or renormalisation of the k entries by logsumexp.
 * Departure: k >= V is the full vocabulary with no tail bucket. The references would append a tail
 * whose mass is float noise (~1e-7), and its log has O(1) relative error and a ~1e7 derivative.
 */
import { tf } from "../tf.ts"
import type { Dims } from "./common.ts"

/** Per-position divergence summed over the last axis. s, t: [..., K] log-probs, t constant. -> [...] */
export const divergence = (s: tf.Tensor, t: tf.Tensor, alpha: number): tf.Tensor => {
  if (alpha === 0) return t.exp().mul(t.sub(s)).sum(-1)
  if (alpha === 1) return s.exp().mul(s.sub(t)).sum(-1)
  const logM = tf.logSumExp(tf.stack([s.add(Math.log(1 - alpha)), t.add(Math.log(alpha))]), 0) // [..., K]
  const klS = s.exp().mul(s.sub(logM)).sum(-1)
  const klT = t.exp().mul(t.sub(logM)).sum(-1)
  return klS.mul(1 - alpha).add(klT.mul(alpha))
}

/** Appends log(1 - sum exp(lp)) as one more bin. [..., k] -> [..., k + 1] */
export const addTailBucket = (lp: tf.Tensor): tf.Tensor => {
  const logS = tf.minimum(tf.logSumExp(lp, -1, true), -1e-7) // captured mass, kept below 1
  const tail = tf.expm1(logS).neg().log() // log(1 - exp(logS)), stable for logS near 0
  return tf.concat([lp, tail], -1)
}

/** Renormalises the k entries to a distribution. [..., k] -> [..., k] */
export const renormalize = (lp: tf.Tensor): tf.Tensor => lp.sub(tf.logSumExp(lp, -1, true))

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

/** A constant one-hot selector [B, R, k, V] of the given indices. */
export const supportMask = (indices: Int32Array, d: Dims, k: number): tf.Tensor4D =>
  tf.oneHot(tf.tensor1d(indices, "int32"), d.V).reshape([d.B, d.R, k, d.V]).toFloat() as tf.Tensor4D

/** Reads each position's log-probs at its k support entries. [B, R, V] x [B, R, k, V] -> [B, R, k] */
export const onSupport = (lp: tf.Tensor3D, mask: tf.Tensor4D): tf.Tensor3D =>
  lp.expandDims(2).mul(mask).sum(-1) as tf.Tensor3D
