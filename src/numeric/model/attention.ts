/**
 * Causal self-attention in a channel-last layout, built on depthwise convolutions.
 *
 * Why: tfjs-wasm runs a batched matMul ([B*H, T, dh] @ [B*H, dh, T]) on a scalar fallback at ~0.6
 * GMAC/s, but a depthwise convolution goes through XNNPACK's grouped GEMM, ~5x faster. With one
 * channel per (batch row, head) pair, c = b * H + h, a depthwise conv is a per-channel matmul:
 *
 *   cbmm(A [M, K, C], B [K, C, N]) -> [M, C, N],   out[m, c, n] = sum_k A[m, k, c] * B[k, c, n]
 *
 * (input [1, M, K, C], filter [1, K, C, N], "valid" padding, channel multiplier N). The sum over k
 * runs in order k = 0..K-1 for each output, so trailing zero terms (masked keys) leave results
 * bit-identical, and channels never mix, so a row's values do not depend on the other rows.
 *
 * Layouts (C = B * H): Q [T, dh, C], K [dh, C, T], V [T, C, dh], scores/probs [Tq, C, Tk],
 * output [Tq, C, dh]. The gradients below are written to need as few large transposes as possible
 * (transposes of [T, C, T] tensors cost about as much as the cbmm itself on wasm).
 */
import { fmaEnabled } from "../fmaMode.ts"
import { tf } from "../tf.ts"
import { channelProduct, channelProductFits } from "../wasm/attentionKernels.ts"
import { fmaChannelProduct, fmaChannelProductFits } from "../wasm/fmaKernels.ts"
import { heapView } from "../wasm/heapView.ts"

/**
 * Per-channel matmul, out[m, c, n] = sum_k a[m, k, c] * b[k, c, n]. On wasm, when the sizes allow,
 * our kernel (same bits, no packing of b), or in the fma mode (fmaMode.ts) its fused multiply-add
 * counterpart; otherwise the depthwise convolution.
 */
export const cbmm = (a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D => {
  const [M, K, C] = a.shape
  const N = b.shape[2]
  if (tf.getBackend() === "wasm" && fmaEnabled() && fmaChannelProductFits(K, N)) {
    return tf.tensor3d(fmaChannelProduct(heapView(a), heapView(b), M, K, C, N), [M, C, N])
  }
  if (tf.getBackend() === "wasm" && channelProductFits(K, N)) return tf.tensor3d(channelProduct(heapView(a), heapView(b), M, K, C, N), [M, C, N])
  const out = tf.depthwiseConv2d(a.reshape([1, M, K, C]) as tf.Tensor4D, b.reshape([1, K, C, N]) as tf.Tensor4D, 1, "valid")
  return out.reshape([M, C, N]) as tf.Tensor3D
}

const scoresImpl = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [q, k, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc]
  save([q, k])
  return {
    value: cbmm(q, k), // [Tq, C, Tk]
    gradFunc: (dy: tf.Tensor, saved: Array<tf.Tensor>) => {
      const [sq, sk] = saved as [tf.Tensor3D, tf.Tensor3D]
      const ds = dy as tf.Tensor3D // [Tq, C, Tk]
      // dQ[i, d, c] = sum_j dS[i, c, j] K[d, c, j]
      const dq = cbmm(ds.transpose([0, 2, 1]), sk.transpose([2, 1, 0])).transpose([0, 2, 1]) // [Tq, dh, C]
      // dK[d, c, j] = sum_i Q[i, d, c] dS[i, c, j]
      const dk = cbmm(sq.transpose([1, 0, 2]), ds) // [dh, C, Tk]
      return [dq, dk]
    }
  }
})

/** Attention logits S[i, c, j] = sum_d Q[i, d, c] K[d, c, j]: Q [Tq, dh, C], K [dh, C, Tk] -> [Tq, C, Tk]. */
export const attnScores = (q: tf.Tensor3D, k: tf.Tensor3D): tf.Tensor3D => scoresImpl(q, k) as tf.Tensor3D

const mixImpl = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [p, v, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc]
  save([p, v])
  return {
    value: cbmm(p.transpose([0, 2, 1]), v), // [Tq, C, dh]
    gradFunc: (dy: tf.Tensor, saved: Array<tf.Tensor>) => {
      const [sp, sv] = saved as [tf.Tensor3D, tf.Tensor3D]
      const dY = dy as tf.Tensor3D // [Tq, C, dh]
      // dP[i, c, j] = sum_e dY[i, c, e] V[j, c, e]
      const dp = cbmm(dY.transpose([0, 2, 1]), sv.transpose([2, 1, 0])) // [Tq, C, Tk]
      // dV[j, c, e] = sum_i P[i, c, j] dY[i, c, e]
      const dv = cbmm(sp.transpose([2, 0, 1]), dY) // [Tk, C, dh]
      return [dp, dv]
    }
  }
})

/** Attention output Y[i, c, e] = sum_j P[i, c, j] V[j, c, e]: P [Tq, C, Tk], V [Tk, C, dh] -> [Tq, C, dh]. */
export const attnMix = (p: tf.Tensor3D, v: tf.Tensor3D): tf.Tensor3D => mixImpl(p, v) as tf.Tensor3D

/** q, k, v as [B*T, d] (rows b*T + t) -> the channel-last layouts above. */
export const toHeads = (
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  B: number,
  T: number,
  H: number,
  dh: number
): { q: tf.Tensor3D; k: tf.Tensor3D; v: tf.Tensor3D } => ({
  q: q.reshape([B, T, H, dh]).transpose([1, 3, 0, 2]).reshape([T, dh, B * H]) as tf.Tensor3D,
  k: k.reshape([B, T, H, dh]).transpose([3, 0, 2, 1]).reshape([dh, B * H, T]) as tf.Tensor3D,
  v: v.reshape([B, T, H, dh]).transpose([1, 0, 2, 3]).reshape([T, B * H, dh]) as tf.Tensor3D
})

/** Attention output [T, C, dh] -> [B*T, d]. */
export const fromHeads = (y: tf.Tensor3D, B: number, T: number, H: number, dh: number): tf.Tensor2D =>
  y.reshape([T, B, H, dh]).transpose([1, 0, 2, 3]).reshape([B * T, H * dh]) as tf.Tensor2D
