/**
 * The fma mode's attention products in the layouts the model already has (fmaKernels.wat `bmm`):
 * q, k, v, the output and their gradients as rows [B*T, H*dh] (row b*T + t, column h*dh + e), the
 * scores and probabilities head-major as [B*H, T, T] (channel c = b*H + h, query, key). attention.ts's
 * channel-last path transposes q, k, v into per-channel layouts, the output out of them, and several
 * operands of the gradients on the way; these products read every operand where it lies instead,
 * with the same sums (each output summed over k in increasing order, from zero, one multiply-add per
 * term), so the same bits as `cbmm` in the fma mode. (Scores head-major rather than the channel-last
 * [T, B*H, T]: there a head's T rows lie B*H*T floats apart, 48 KB at the bench's shapes, which maps
 * them all to the same few cache sets, and P^T dY reads them down the columns.)
 *
 * On tensors (`headScoresOf`, `headMixOf`: model/attention.ts) the kernels run in the tfjs heap where
 * it can be imported (tfjsHeap.ts), operands in place and the result written into a new tensor;
 * otherwise, and for plain arrays (`headScores`, `headMix`), operands are copied into the module's
 * memory and the result is a view of it, valid until the next call.
 */
import { tf } from "../tf.ts"
import { type FmaExports, fmaKernels } from "./fmaKernels.ts"
import { fmaHeapKernels } from "./fmaTensors.ts"
import { heapView } from "./heapView.ts"
import { Arena } from "./kernelModule.ts"
import { offsetOf, outputTensor, scratchOffset } from "./tfjsHeap.ts"

/** Batch rows, positions, heads and head width of one attention call. */
export interface HeadDims {
  readonly B: number
  readonly T: number
  readonly H: number
  readonly dh: number
}

type Kernels = Pick<FmaExports, "bmm" | "packHeadsT">

/** Whether these products take the sizes: their lanes run along positions or head channels, 4 at a time. */
export const fmaHeadsFit = (T: number, dh: number): boolean => T > 0 && dh > 0 && T % 4 === 0 && dh % 4 === 0

/** Byte strides of the row layout [B*T, H*dh]: next batch row, next head, next position. */
const rowStrides = ({ T, H, dh }: HeadDims) => ({ x: 4 * T * H * dh, y: 4 * dh, t: 4 * H * dh })
/** Byte strides of the score layout [B*H, T, T]: next batch row, next head, next query. */
const scoreStrides = ({ T, H }: HeadDims) => ({ x: 4 * H * T * T, y: 4 * T * T, q: 4 * T })

const rowsSize = ({ B, T, H, dh }: HeadDims): number => B * T * H * dh
const scoresSize = ({ B, T, H }: HeadDims): number => T * B * H * T

/** Scores at byte offset `out` from rows at `x` and `y`, `yt` scratch of rowsSize floats (see headScores). */
const runScores = (k: Kernels, g: HeadDims, x: number, y: number, yt: number, out: number): void => {
  const { B, T, H, dh } = g
  const r = rowStrides(g)
  const s = scoreStrides(g)
  k.packHeadsT(B, H, T, dh, y, r.x, r.y, r.t, yt) // [B, H, dh, T]: lanes along the keys
  // A(m = i, k = e) = x(b, i, h, e); B(e, j) = yt[b, h, e, j]; out(i, j) = s[c, i, j]
  k.bmm(B, H, T, T, dh, x, r.x, r.y, r.t, 4, yt, 4 * H * dh * T, 4 * dh * T, 4 * T, out, s.x, s.y, s.q)
}

/** Rows at byte offset `out` from scores at `s` and rows at `y` (see headMix). */
const runMix = (k: Kernels, g: HeadDims, s: number, y: number, out: number, transposed: boolean): void => {
  const { B, T, H, dh } = g
  const r = rowStrides(g)
  const ss = scoreStrides(g)
  // A(m, k): s[c, m, k], or s[c, k, m] transposed; B(k, e) = y(b, k, h, e); out(m, e) = out(b, m, h, e)
  const [am, ak] = transposed ? [4, ss.q] : [ss.q, 4]
  k.bmm(B, H, T, dh, T, s, ss.x, ss.y, am, ak, y, r.x, r.y, r.t, out, r.x, r.y, r.t)
}

/**
 * s[c, i, j] = sum_e x(b, i, h, e) y(b, j, h, e): scores q k^T (and the gradient dP = dY v^T) from
 * rows [B*T, H*dh] -> [B*H, T, T]. y is transposed per head first, so that lanes run along the keys.
 */
export const headScores = (x: Float32Array, y: Float32Array, g: HeadDims): Float32Array => {
  const n = rowsSize(g)
  const k = fmaKernels()
  const arena = Arena.reserve(k.memory, 4 * (3 * n + scoresSize(g)), 4)
  const [rx, ry, yt] = [arena.floats(n, false), arena.floats(n, false), arena.floats(n, false)]
  const ro = arena.floats(scoresSize(g), false) // every output is written
  rx.view.set(x.subarray(0, n))
  ry.view.set(y.subarray(0, n))
  runScores(k, g, rx.ptr, ry.ptr, yt.ptr, ro.ptr)
  return ro.view
}

/**
 * out(b, i, h, e) = sum_j s[c, i, j] y(b, j, h, e) (`transposed` false), or sum_i s[c, i, j]
 * y(b, i, h, e) as out(b, j, h, e) (`transposed` true): the attention output P v and the gradients
 * dQ = dS k, dV = P^T dY, dK = dS^T q, from s [B*H, T, T] and rows [B*T, H*dh] -> rows [B*T, H*dh].
 */
export const headMix = (s: Float32Array, y: Float32Array, g: HeadDims, transposed: boolean): Float32Array => {
  const n = rowsSize(g)
  const k = fmaKernels()
  const arena = Arena.reserve(k.memory, 4 * (scoresSize(g) + 2 * n), 3)
  const rs = arena.floats(scoresSize(g), false)
  const ry = arena.floats(n, false)
  const ro = arena.floats(n, false) // every output is written
  rs.view.set(s.subarray(0, scoresSize(g)))
  ry.view.set(y.subarray(0, n))
  runMix(k, g, rs.ptr, ry.ptr, ro.ptr, transposed)
  return ro.view
}

/** `headScores` on tensors: x, y [B*T, H*dh] -> [B*H, T, T], in the tfjs heap where it can be. */
export const headScoresOf = (x: tf.Tensor2D, y: tf.Tensor2D, g: HeadDims): tf.Tensor3D => {
  const shape: [number, number, number] = [g.B * g.H, g.T, g.T]
  const k = fmaHeapKernels()
  if (k === undefined) return tf.tensor3d(headScores(heapView(x), heapView(y), g), shape)
  const yt = scratchOffset(4 * rowsSize(g))
  const out = outputTensor<tf.Rank.R3>(shape)
  runScores(k, g, offsetOf(x), offsetOf(y), yt, out.offset)
  return out.tensor
}

/** `headMix` on tensors: s [B*H, T, T], y [B*T, H*dh] -> [B*T, H*dh], in the tfjs heap where it can be. */
export const headMixOf = (s: tf.Tensor3D, y: tf.Tensor2D, g: HeadDims, transposed: boolean): tf.Tensor2D => {
  const k = fmaHeapKernels()
  if (k === undefined) return tf.tensor2d(headMix(heapView(s), heapView(y), g, transposed), y.shape)
  const out = outputTensor<tf.Rank.R2>(y.shape)
  runMix(k, g, offsetOf(s), offsetOf(y), out.offset, transposed)
  return out.tensor
}
