/**
 * Differentiable building blocks tuned for tfjs's wasm backend (see stack-notes §4).
 *
 * - `mm`: matMul whose gradient uses explicit transposes and plain matMuls. The built-in
 *   gradient calls matMul with transposeA/transposeB, which is ~10x slower on wasm.
 * - Reductions as matmuls: tfjs-wasm's Sum over axis 0 transposes first and is ~50x slower than
 *   ones[1, N] @ x, and a row sum is faster as x @ ones[d, 1]. `addBias` and `layerNorm` use them.
 * - `layerNorm`: over the last axis, with a hand-written gradient (fewer kernels than autodiff).
 * - `embed`: one-hot matmul, because tf.gather has no gradient kernel on wasm.
 * - On wasm, the weight gradients x^T @ dy and the column sums run in our own SIMD kernels
 *   (wasm/gradKernels.wat): XNNPACK would transpose x and pack the fresh dy first, which costs more
 *   than the product. They sum in XNNPACK's order, so the bits are the same (tested).
 * All values are identical to the plain ops; only the gradient graphs differ.
 * - In the opt-in fma mode (fmaMode.ts) on wasm, `mm`'s value and both gradients run in the
 *   relaxed-SIMD GEMMs of wasm/fmaKernels.wat instead (wasm/fmaTensors.ts): other bits
 *   (machine-specific), same sums.
 * - On wasm, where the tfjs heap can be imported (wasm/tfjsHeap.ts), `layerNorm` and `layerNormValue`
 *   run in our kernels (wasm/lnKernels.wat): the same operations in the same order as their ops, so
 *   the same bits, in two launches instead of about 24.
 */
import { fmaEnabled } from "../fmaMode.ts"
import { tf } from "../tf.ts"
import { fmaMatMul, fmaMatMulTransposed, fmaTransposedMatMul } from "../wasm/fmaTensors.ts"
import { columnSums, transposedProduct } from "../wasm/gradKernels.ts"
import { heapView } from "../wasm/heapView.ts"
import { layerNormBackward, layerNormForward, lnKernels } from "../wasm/lnKernels.ts"

/** Swap the last two axes. */
const tr = (x: tf.Tensor): tf.Tensor =>
  x.rank === 2 ? x.transpose() : x.transpose([...Array(x.rank - 2).keys(), x.rank - 1, x.rank - 2])

/** a^T @ b for a [K, M], b [K, N] -> [M, N]. */
const transposedMatMul = (a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D => {
  if (tf.getBackend() !== "wasm") return tf.matMul(tr(a), b) as tf.Tensor2D
  const [K, M] = a.shape
  const N = b.shape[1]
  return tf.tensor2d(transposedProduct(heapView(a), heapView(b), K, M, N), [M, N])
}

const mmImpl = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [a, b, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc]
  save([a, b])
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: Array<tf.Tensor>) => {
      const [sa, sb] = saved as [tf.Tensor, tf.Tensor]
      return [tf.matMul(dy, tr(sb)), transposedMatMul(sa as tf.Tensor2D, dy as tf.Tensor2D)]
    }
  }
})

/** The fma mode's mm: a @ b, dy @ b^T and a^T @ dy in the fma kernels (wasm/fmaTensors.ts), operands read in place. */
const mmFmaImpl = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [a, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc]
  save([a, b])
  return {
    value: fmaMatMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: Array<tf.Tensor>) => {
      const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D]
      return [fmaMatMulTransposed(dy as tf.Tensor2D, sb), fmaTransposedMatMul(sa, dy as tf.Tensor2D)]
    }
  }
})

/** Whether `mm` takes the fma kernels: the mode is on, the backend is wasm, and no dimension is empty. */
const useFma = (a: tf.Tensor2D, b: tf.Tensor2D): boolean =>
  fmaEnabled() && a.shape[0] > 0 && a.shape[1] > 0 && b.shape[1] > 0 && tf.getBackend() === "wasm"

/** [M, K] @ [K, N] -> [M, N]. */
export const mm = (a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D => (useFma(a, b) ? mmFmaImpl(a, b) : mmImpl(a, b)) as tf.Tensor2D

/** LayerNorm's epsilon (the fused decode step uses it too). */
export const LAYER_NORM_EPS = 1e-5
const EPS = LAYER_NORM_EPS

/** Column sums of x [N, n] -> [n], as ones[1, N] @ x (on wasm, the same sums in our kernel). */
export const colSum = (x: tf.Tensor2D): tf.Tensor1D => {
  const [N, n] = x.shape
  if (tf.getBackend() === "wasm") return tf.tensor1d(columnSums(heapView(x), N, n))
  return tf.matMul(tf.ones([1, N]), x).reshape([n]) as tf.Tensor1D
}

/** Row means of x [N, d] -> [N, 1], as x @ (ones[d, 1] / d). */
const rowMean = (x: tf.Tensor2D): tf.Tensor2D => tf.matMul(x, tf.fill([x.shape[1], 1], 1 / x.shape[1])) as tf.Tensor2D

const biasImpl = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, b] = args as [tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc]
  return { value: x.add(b), gradFunc: (dy: tf.Tensor) => [dy, colSum(dy as tf.Tensor2D)] }
})

/** x [N, n] + b [n], with the bias gradient as a matmul. */
export const addBias = (x: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D => biasImpl(x, b) as tf.Tensor2D

/** Normalised rows of x [N, d] and their reciprocal standard deviations [N, 1]. */
const normalise = (x: tf.Tensor2D): { xhat: tf.Tensor2D; rstd: tf.Tensor2D } => {
  const xc = x.sub(rowMean(x)) as tf.Tensor2D // [N, d]
  const rstd = tf.rsqrt(rowMean(xc.square()).add(EPS)) as tf.Tensor2D // [N, 1]
  return { xhat: xc.mul(rstd) as tf.Tensor2D, rstd }
}

/** LayerNorm in our kernels (wasm/lnKernels.ts: the same bits as lnImpl's ops, two launches instead of ~24). */
const lnKernelImpl = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, g, b, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc]
  const k = lnKernels()!
  const { y, xhat, rstd } = layerNormForward(k, x, g, b, EPS)
  save([xhat, rstd, g])
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, saved: Array<tf.Tensor>) => {
      const [sxhat, srstd, sg] = saved as [tf.Tensor2D, tf.Tensor, tf.Tensor]
      const { dx, dg, db } = layerNormBackward(lnKernels()!, dy as tf.Tensor2D, sxhat, srstd, sg)
      return [dx, dg, db]
    }
  }
})

const lnImpl = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, g, b, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc]
  const { xhat, rstd } = normalise(x)
  save([xhat, rstd, g])
  return {
    value: xhat.mul(g).add(b),
    gradFunc: (dy: tf.Tensor, saved: Array<tf.Tensor>) => {
      const [sxhat, srstd, sg] = saved as [tf.Tensor2D, tf.Tensor, tf.Tensor]
      const dy2 = dy as tf.Tensor2D
      const dg = colSum(dy2.mul(sxhat))
      const db = colSum(dy2)
      const dxhat = dy2.mul(sg) as tf.Tensor2D // [N, d]
      // dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
      const dx = dxhat.sub(rowMean(dxhat)).sub(sxhat.mul(rowMean(dxhat.mul(sxhat)))).mul(srstd)
      return [dx, dg, db]
    }
  }
})

/** LayerNorm over the last axis: x [N, d], gain [d], bias [d] (in our kernels where the tfjs heap takes them). */
export const layerNorm = (x: tf.Tensor2D, g: tf.Tensor1D, b: tf.Tensor1D): tf.Tensor2D =>
  (x.shape[0] > 0 && x.shape[1] > 0 && lnKernels() !== undefined ? lnKernelImpl(x, g, b) : lnImpl(x, g, b)) as tf.Tensor2D

/** The same LayerNorm as tfjs ops only (where the kernels do not run; tests compare the two). */
export const layerNormOps = (x: tf.Tensor2D, g: tf.Tensor1D, b: tf.Tensor1D): tf.Tensor2D => lnImpl(x, g, b) as tf.Tensor2D

/** The same values as `layerNorm` without a gradient (decoding): fewer engine records per call. */
export const layerNormValue = (x: tf.Tensor2D, g: tf.Tensor1D, b: tf.Tensor1D): tf.Tensor2D => {
  const k = x.shape[0] > 0 && x.shape[1] > 0 ? lnKernels() : undefined
  if (k === undefined) return normalise(x).xhat.mul(g).add(b) as tf.Tensor2D
  const { y, xhat, rstd } = layerNormForward(k, x, g, b, EPS)
  tf.dispose([xhat, rstd])
  return y
}

/** Embedding lookup as a one-hot matmul: ids int32 [N] -> [N, d]. Exact (one term per row is non-zero). */
export const embed = (ids: tf.Tensor1D, table: tf.Tensor2D): tf.Tensor2D =>
  mm(tf.oneHot(ids, table.shape[0]).toFloat() as tf.Tensor2D, table)
