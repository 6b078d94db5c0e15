/**
 * Differentiable building blocks tuned for tfjs's wasm backend (see stack-notes §4).
 *
 * - `mm`: matMul whose gradient uses explicit transposes and plain matMuls. The built-in
 *   gradient calls matMul with transposeA/transposeB, which is ~10x slower on wasm.
 * - `layerNorm`: over the last axis, with a hand-written gradient (fewer kernels than autodiff).
 * - `embed`: one-hot matmul, because tf.gather has no gradient kernel on wasm.
 * All values are identical to the plain ops; only the gradient graphs differ.
 */
import { tf } from "../tf.ts"

/** Swap the last two axes. */
const tr = (x: tf.Tensor): tf.Tensor =>
  x.rank === 2 ? x.transpose() : x.transpose([...Array(x.rank - 2).keys(), x.rank - 1, x.rank - 2])

const mmImpl = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [a, b, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc]
  save([a, b])
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: Array<tf.Tensor>) => {
      const [sa, sb] = saved as [tf.Tensor, tf.Tensor]
      return [tf.matMul(dy, tr(sb)), tf.matMul(tr(sa), dy)]
    }
  }
})

/** [M, K] @ [K, N] -> [M, N]. */
export const mm = (a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D => mmImpl(a, b) as tf.Tensor2D

const EPS = 1e-5

const lnImpl = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, g, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc]
  // x: [N, d]; normalise each row
  const d = x.shape[x.rank - 1]!
  const mean = x.mean(-1, true) // [N, 1]
  const xc = x.sub(mean) // [N, d]
  const rstd = tf.rsqrt(xc.square().mean(-1, true).add(EPS)) // [N, 1]
  const xhat = xc.mul(rstd) // [N, d]
  save([xhat, rstd, g])
  return {
    value: xhat.mul(g).add(b),
    gradFunc: (dy: tf.Tensor, saved: Array<tf.Tensor>) => {
      const [sxhat, srstd, sg] = saved as [tf.Tensor, tf.Tensor, tf.Tensor]
      const axes = [...Array(dy.rank - 1).keys()]
      const dg = dy.mul(sxhat).sum(axes)
      const db = dy.sum(axes)
      const dxhat = dy.mul(sg) // [N, d]
      // dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
      const m1 = dxhat.sum(-1, true).div(d)
      const m2 = dxhat.mul(sxhat).sum(-1, true).div(d)
      const dx = dxhat.sub(m1).sub(sxhat.mul(m2)).mul(srstd)
      return [dx, dg, db]
    }
  }
})

/** LayerNorm over the last axis: x [N, d], gain [d], bias [d]. */
export const layerNorm = (x: tf.Tensor2D, g: tf.Tensor1D, b: tf.Tensor1D): tf.Tensor2D => lnImpl(x, g, b) as tf.Tensor2D

/** Embedding lookup as a one-hot matmul: ids int32 [N] -> [N, d]. Exact (one term per row is non-zero). */
export const embed = (ids: tf.Tensor1D, table: tf.Tensor2D): tf.Tensor2D =>
  mm(tf.oneHot(ids, table.shape[0]).toFloat() as tf.Tensor2D, table)
