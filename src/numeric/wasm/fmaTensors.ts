/**
 * The fma mode's GEMMs on tensors (model/ops.ts `mm`): a @ b, dy @ w^T and x^T @ dy. Where the tfjs
 * heap can be imported (tfjsHeap.ts) and the sizes fit the 2 x 16 tile, fmaKernels.wat runs in the
 * heap: operands read in place, packed into a scratch block, the result written straight into a new
 * tensor. Otherwise fmaKernels.ts's copying functions. Same kernels, same bits either way.
 */
import { tf } from "../tf.ts"
import { FMA_KERNELS_HEAP_WASM } from "./fmaKernelsHeap.bytes.ts"
import { type FmaExports, fmaProduct, fmaProductTransposed, fmaTransposedProduct, gemmBlocks } from "./fmaKernels.ts"
import { heapView } from "./heapView.ts"
import { heapModule, offsetOf, outputTensor, scratchOffset } from "./tfjsHeap.ts"

/** fmaKernels.wat working in the tfjs heap, or undefined where it cannot be imported (tfjsHeap.ts). */
export const fmaHeapKernels = heapModule<Omit<FmaExports, "memory">>(FMA_KERNELS_HEAP_WASM)

/** The heap kernels, when they take an output of M x N (rows in pairs, columns in 16-wide panels). */
const inHeap = (M: number, N: number): Omit<FmaExports, "memory"> | undefined => (M % 2 === 0 && N % 16 === 0 ? fmaHeapKernels() : undefined)

/**
 * a @ B in the heap, for a [M, K] and a B [K, N] that `pack` writes at the offset it is given, in
 * 16-column panels (from b itself, or from w for B = w^T); undefined when the sizes are off the tile.
 */
const heapProductPackedB = (a: tf.Tensor2D, N: number, pack: (k: Omit<FmaExports, "memory">, bp: number) => void): tf.Tensor2D | undefined => {
  const [M, K] = a.shape
  const k = inHeap(M, N)
  if (k === undefined) return undefined
  const bp = scratchOffset(4 * K * N)
  const out = outputTensor<tf.Rank.R2>([M, N])
  pack(k, bp)
  gemmBlocks(k, K, M, N, offsetOf(a), 8 * K, 4 * K, 4, bp, out.offset)
  return out.tensor
}

/** a @ b for a [M, K], b [K, N] (K >= 1) -> [M, N]. */
export const fmaMatMul = (a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D => {
  const [M, K] = a.shape
  const N = b.shape[1]
  return heapProductPackedB(a, N, (k, bp) => k.pack16(K, N, offsetOf(b), bp)) ??
    tf.tensor2d(fmaProduct(heapView(a), heapView(b), M, K, N), [M, N])
}

/** a @ w^T for a [M, K], w [N, K] (K >= 1) -> [M, N]: an input gradient dy @ W^T without a transpose. */
export const fmaMatMulTransposed = (a: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D => {
  const [M, K] = a.shape
  const N = w.shape[0]
  return heapProductPackedB(a, N, (k, bp) => k.pack16t(N, K, offsetOf(w), bp)) ??
    tf.tensor2d(fmaProductTransposed(heapView(a), heapView(w), M, K, N), [M, N])
}

/** a^T @ b for a [K, M], b [K, N] (K >= 1) -> [M, N]: a weight gradient x^T @ dy without a transpose. */
export const fmaTransposedMatMul = (a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D => {
  const [K, M] = a.shape
  const N = b.shape[1]
  const k = inHeap(M, N)
  if (k === undefined) return tf.tensor2d(fmaTransposedProduct(heapView(a), heapView(b), K, M, N), [M, N])
  const ap = scratchOffset(4 * K * (M + N)) // a in 2-column panels, then b in 16-column panels
  const bp = ap + 4 * K * M
  const out = outputTensor<tf.Rank.R2>([M, N])
  k.pack2(K, M, offsetOf(a), ap)
  k.pack16(K, N, offsetOf(b), bp)
  // A(m, k) = a[k, m] lies in panel m / 2 (8K bytes each), 8 bytes per k, the pair's second 4 bytes on
  gemmBlocks(k, K, M, N, ap, 8 * K, 4, 8, bp, out.offset)
  return out.tensor
}
