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
 *
 * In the fma mode on wasm, `selfAttention` skips those layouts altogether: its products
 * (wasm/fmaAttention.ts) read q, k, v and write the output as the rows [B*T, d] the projections
 * have, with the same sums as `cbmm` (the same bits), and no transposes.
 */
import { fmaEnabled } from "../fmaMode.ts"
import { tf } from "../tf.ts"
import { channelProduct, channelProductFits } from "../wasm/attentionKernels.ts"
import { type HeadDims, fmaHeadsFit, headMixOf, headScoresOf } from "../wasm/fmaAttention.ts"
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

/** Scores of the fma mode: q, k rows [B*T, d] -> [C, T, T] (fmaAttention.ts), gradients back as rows. */
const fmaScores = (g: HeadDims) =>
  tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [q, k, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc]
    save([q, k])
    return {
      value: headScoresOf(q, k, g),
      gradFunc: (dy: tf.Tensor, saved: Array<tf.Tensor>) => {
        const [sq, sk] = saved as [tf.Tensor2D, tf.Tensor2D]
        // dQ = dS k, dK = dS^T q
        return [headMixOf(dy as tf.Tensor3D, sk, g, false), headMixOf(dy as tf.Tensor3D, sq, g, true)]
      }
    }
  })

/** Output of the fma mode: probabilities [C, T, T] and v rows [B*T, d] -> rows [B*T, d] (fmaAttention.ts). */
const fmaMix = (g: HeadDims) =>
  tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [p, v, save] = args as [tf.Tensor3D, tf.Tensor2D, tf.GradSaveFunc]
    save([p, v])
    return {
      value: headMixOf(p, v, g, false),
      gradFunc: (dy: tf.Tensor, saved: Array<tf.Tensor>) => {
        const [sp, sv] = saved as [tf.Tensor3D, tf.Tensor2D]
        // dP = dY v^T, dV = P^T dY
        return [headScoresOf(dy as tf.Tensor2D, sv, g), headMixOf(sp, dy as tf.Tensor2D, g, true)]
      }
    }
  })

/**
 * Causal self-attention: q (already scaled by 1/sqrt(dh)), k, v as rows [B*T, d] and the additive
 * mask `bias` [T, 1, T] -> the heads' outputs as rows [B*T, d]. `kv`, when given, receives the keys
 * [dh, C, T] and values [T, C, dh] (the sampler's cache layouts). In the fma mode on wasm, and when
 * the sizes allow (`fmaHeadsFit`) and no keys are wanted, the products of fmaAttention.ts; otherwise
 * the channel-last layouts above. Both give the fma mode the same bits.
 */
export const selfAttention = (
  q: tf.Tensor2D,
  k: tf.Tensor2D,
  v: tf.Tensor2D,
  bias: tf.Tensor3D,
  g: HeadDims,
  kv?: Array<{ readonly k: tf.Tensor3D; readonly v: tf.Tensor3D }>
): tf.Tensor2D => {
  if (kv === undefined && tf.getBackend() === "wasm" && fmaEnabled() && fmaHeadsFit(g.T, g.dh)) {
    // scores head-major [C, T, T]: the mask [T, 1, T] as [T, T], the same additions and row softmaxes
    const att = tf.softmax(fmaScores(g)(q, k).add(bias.reshape([g.T, g.T]))) as tf.Tensor3D
    return fmaMix(g)(att, v) as tf.Tensor2D
  }
  const heads = toHeads(q, k, v, g.B, g.T, g.H, g.dh) // [T, dh, C], [dh, C, T], [T, C, dh]
  kv?.push({ k: heads.k, v: heads.v })
  const att = tf.softmax(attnScores(heads.q, heads.k).add(bias)) as tf.Tensor3D // [T, C, T]
  return fromHeads(attnMix(att, heads.v), g.B, g.T, g.H, g.dh)
}
