/**
 * Weight-gradient products of a train step in our wasm SIMD kernels (gradKernels.wat): x^T @ dy and
 * column sums, bit-identical to what tfjs-wasm's XNNPACK matmuls compute (see the .wat for why and
 * how), without the transpose and the packing of a fresh operand.
 *
 * Operands are copied in (padded with zero columns to the kernels' tile widths: zero columns are
 * separate outputs, so the wanted outputs do not change) and the result is copied out. Callers pass
 * the wasm backend's heap in place (heapView.ts), so each operand is copied once.
 */
import { GRAD_KERNELS_WASM } from "./gradKernels.bytes.ts"
import { Arena, type F32Region, type WasmMemory, lazyModule } from "./kernelModule.ts"

interface GradExports {
  readonly memory: WasmMemory
  readonly atb: (k0: number, k1: number, M: number, N: number, a: number, b: number, c: number) => void
  readonly colsum: (K: number, N: number, b: number, c: number) => void
}

const kernels = lazyModule<GradExports>(GRAD_KERNELS_WASM)

/** Rows of k per block: a block's rows of both operands (e.g. 128 x (64 + 256) floats) stay in L2 across the tiles. */
const K_BLOCK = 128

const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m

/** Copies src [rows, cols] into region [rows, colsPadded] (zero columns beyond cols). */
const copyPadded = (src: Float32Array, rows: number, cols: number, colsPadded: number, dst: F32Region): void => {
  if (cols === colsPadded) dst.view.set(src.subarray(0, rows * cols))
  else for (let r = 0; r < rows; r++) dst.view.set(src.subarray(r * cols, (r + 1) * cols), r * colsPadded)
}

/**
 * a^T @ b for a [K, M], b [K, N] (row-major) -> [M, N], summed over k in increasing order. Like
 * `columnSums`, it may return a view into the kernels' memory, valid until the next call: wrap it in
 * a tensor (which copies) at once.
 */
export const transposedProduct = (a: Float32Array, b: Float32Array, K: number, M: number, N: number): Float32Array => {
  const Mp = roundUp(M, 4)
  const Np = roundUp(N, 8)
  const k = kernels()
  const arena = Arena.reserve(k.memory, 4 * (K * Mp + K * Np + Mp * Np), 3)
  const ra = arena.floats(K * Mp, Mp !== M) // zero pad columns; unpadded operands are overwritten whole
  const rb = arena.floats(K * Np, Np !== N)
  const rc = arena.floats(Mp * Np)
  copyPadded(a, K, M, Mp, ra)
  copyPadded(b, K, N, Np, rb)
  for (let k0 = 0; k0 < K; k0 += K_BLOCK) k.atb(k0, Math.min(K, k0 + K_BLOCK), Mp, Np, ra.ptr, rb.ptr, rc.ptr)
  if (Mp === M && Np === N) return rc.view
  const out = new Float32Array(M * N)
  for (let m = 0; m < M; m++) out.set(rc.view.subarray(m * Np, m * Np + N), m * N)
  return out
}

/** Column sums of b [K, N] -> [N], summed over k in increasing order. */
export const columnSums = (b: Float32Array, K: number, N: number): Float32Array => {
  const Np = roundUp(N, 4)
  const k = kernels()
  const arena = Arena.reserve(k.memory, 4 * (K * Np + Np), 2)
  const rb = arena.floats(K * Np, Np !== N)
  const rc = arena.floats(Np)
  copyPadded(b, K, N, Np, rb)
  if (K > 0) k.colsum(K, Np, rb.ptr, rc.ptr)
  return rc.view.subarray(0, N)
}
