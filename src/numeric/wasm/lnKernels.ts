/**
 * LayerNorm's forward and backward passes in our wasm SIMD kernels (lnKernels.wat), working in the
 * tfjs heap (tfjsHeap.ts): the same bits as model/ops.ts's chain of tfjs ops (see the .wat for why),
 * in one launch each way instead of about 11 and 13. Where the heap cannot be imported (the threaded
 * wasm build) `lnKernels()` is undefined and ops.ts keeps its ops.
 */
import { tf } from "../tf.ts"
import { LN_KERNELS_HEAP_WASM } from "./lnKernelsHeap.bytes.ts"
import { heapModule, offsetOf, outputTensor } from "./tfjsHeap.ts"

interface LnExports {
  readonly lnForward: (N: number, d: number, x: number, g: number, b: number, w: number, eps: number, y: number, xhat: number, rstd: number) => void
  readonly lnBackward: (N: number, d: number, dy: number, xhat: number, rstd: number, g: number, w: number, dx: number, dg: number, db: number) => void
}

/** The kernels bound to the tfjs heap, or undefined where it cannot be imported. */
export const lnKernels = heapModule<LnExports>(LN_KERNELS_HEAP_WASM)

/**
 * y = xhat g + b for x [N, d] (N, d >= 1), with xhat = (x - mean) rstd and rstd = 1 / sqrt(var + eps)
 * [N, 1] (the row means as x @ ones / d): three new tensors.
 */
export const layerNormForward = (k: LnExports, x: tf.Tensor2D, g: tf.Tensor1D, b: tf.Tensor1D, eps: number): { y: tf.Tensor2D; xhat: tf.Tensor2D; rstd: tf.Tensor2D } => {
  const [N, d] = x.shape
  const [y, xhat, rstd] = [outputTensor<tf.Rank.R2>([N, d]), outputTensor<tf.Rank.R2>([N, d]), outputTensor<tf.Rank.R2>([N, 1])]
  k.lnForward(N, d, offsetOf(x), offsetOf(g), offsetOf(b), 1 / d, eps, y.offset, xhat.offset, rstd.offset)
  return { y: y.tensor, xhat: xhat.tensor, rstd: rstd.tensor }
}

/** The gradients dx [N, d], dg [d], db [d] from dy and the forward's xhat, rstd and gain g. */
export const layerNormBackward = (k: LnExports, dy: tf.Tensor2D, xhat: tf.Tensor2D, rstd: tf.Tensor, g: tf.Tensor): { dx: tf.Tensor2D; dg: tf.Tensor1D; db: tf.Tensor1D } => {
  const [N, d] = dy.shape
  const [dx, dg, db] = [outputTensor<tf.Rank.R2>([N, d]), outputTensor<tf.Rank.R1>([d]), outputTensor<tf.Rank.R1>([d])]
  k.lnBackward(N, d, offsetOf(dy), offsetOf(xhat), offsetOf(rstd), offsetOf(g), 1 / d, dx.offset, dg.offset, db.offset)
  return { dx: dx.tensor, dg: dg.tensor, db: db.tensor }
}
