/**
 * The GEMMs of the opt-in `numeric.fma` mode (fmaKernels.wat: relaxed-SIMD fused multiply-adds, a
 * 2 x 16 register tile): a @ b, a @ w^T and a^T @ b, and the attention's per-channel matmul, each
 * output summed over k in increasing order.
 *
 * Operands are copied into the module's memory (callers pass the wasm backend's heap in place,
 * heapView.ts), padded with zero rows or columns to the tile (zero columns and rows are separate
 * outputs, so the wanted outputs do not change), packed by the module, and the result is copied out.
 * Results are views into the module's memory or fresh arrays: wrap them in a tensor (which copies)
 * before the next call.
 */
import { FMA_KERNELS_WASM } from "./fmaKernels.bytes.ts"
import { Arena, type F32Region, type WasmMemory, lazyModule } from "./kernelModule.ts"

/** The exports of fmaKernels.wat (fmaTensors.ts binds them to the tfjs heap too). */
export interface FmaExports {
  readonly memory: WasmMemory
  readonly gemm: (k0: number, k1: number, M: number, N: number, a: number, ats: number, ars: number, aks: number, b: number, bps: number, c: number) => void
  readonly pack16: (R: number, C: number, src: number, dst: number) => void
  readonly pack2: (R: number, C: number, src: number, dst: number) => void
  readonly pack16t: (N: number, K: number, src: number, dst: number) => void
  readonly cbmm: (M: number, K: number, C: number, N: number, a: number, b: number, out: number) => void
  readonly regroup: (K: number, C: number, N: number, src: number, dst: number) => void
  // the attention's per-head products in the model's row layouts (fmaAttention.ts)
  readonly bmm: (
    X: number, Y: number, M: number, N: number, K: number,
    a: number, ax: number, ay: number, am: number, ak: number,
    b: number, bx: number, by: number, bk: number,
    o: number, ox: number, oy: number, om: number
  ) => void
  readonly packHeadsT: (X: number, Y: number, R: number, E: number, src: number, sx: number, sy: number, sr: number, dst: number) => void
}

/** The module's exports (compiled on first use; throws where the engine has no relaxed SIMD). */
export const fmaKernels = lazyModule<FmaExports>(FMA_KERNELS_WASM)

/** Rows of k per block: a block of one 16-column panel of b (256 x 64 bytes) stays in L1 across a's rows. */
const K_BLOCK = 256
const TILE_M = 2
const TILE_N = 16

const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m

/** Copies src [rows, cols] into region [rows, colsPadded] (zero columns beyond cols: the region is zeroed then). */
const copyPadded = (src: Float32Array, rows: number, cols: number, colsPadded: number, dst: F32Region): void => {
  if (cols === colsPadded) dst.view.set(src.subarray(0, rows * cols))
  else for (let r = 0; r < rows; r++) dst.view.set(src.subarray(r * cols, (r + 1) * cols), r * colsPadded)
}

/** c [Mp, Np] without its padding, as [M, N]. */
const unpad = (c: Float32Array, M: number, N: number, Np: number): Float32Array => {
  if (Np === N) return c.subarray(0, M * N)
  const out = new Float32Array(M * N)
  for (let m = 0; m < M; m++) out.set(c.subarray(m * Np, m * Np + N), m * N)
  return out
}

/** Runs the GEMM over k blocks, in increasing k (c holds the partial sums between blocks; the first block starts from zero). */
export const gemmBlocks = (k: Pick<FmaExports, "gemm">, K: number, Mp: number, Np: number, a: number, ats: number, ars: number, aks: number, bp: number, c: number): void => {
  for (let k0 = 0; k0 < K; k0 += K_BLOCK) k.gemm(k0, Math.min(K, k0 + K_BLOCK), Mp, Np, a, ats, ars, aks, bp, 64 * K, c)
}

/**
 * a @ B for a [M, K] and a B [K, N] that `stage` copies into the module (as b, or as w for B = w^T, in a
 * region of K * Np floats, zeroed when Np > N) and `pack` packs into 16-column panels.
 */
const productPackedB = (
  a: Float32Array,
  M: number,
  K: number,
  N: number,
  stage: (region: F32Region, Np: number) => void,
  pack: (k: FmaExports, staged: number, bp: number, Np: number) => void
): Float32Array => {
  const Mp = roundUp(M, TILE_M)
  const Np = roundUp(N, TILE_N)
  const k = fmaKernels()
  const arena = Arena.reserve(k.memory, 4 * (Mp * K + 2 * K * Np + Mp * Np), 4)
  const ra = arena.floats(Mp * K, Mp !== M) // a zero row pads an odd M; otherwise every value is overwritten
  const rb = arena.floats(K * Np, Np !== N)
  const bp = arena.floats(K * Np, false) // packed: every value is written
  const rc = arena.floats(Mp * Np, false) // the first k block writes every entry
  ra.view.set(a.subarray(0, M * K))
  stage(rb, Np)
  pack(k, rb.ptr, bp.ptr, Np)
  gemmBlocks(k, K, Mp, Np, ra.ptr, 8 * K, 4 * K, 4, bp.ptr, rc.ptr)
  return unpad(rc.view, M, N, Np)
}

/** a @ b for a [M, K], b [K, N] (row-major, K >= 1) -> [M, N]. */
export const fmaProduct = (a: Float32Array, b: Float32Array, M: number, K: number, N: number): Float32Array =>
  productPackedB(a, M, K, N, (rb, Np) => copyPadded(b, K, N, Np, rb), (k, rb, bp, Np) => k.pack16(K, Np, rb, bp))

/** a @ w^T for a [M, K], w [N, K] (row-major, K >= 1) -> [M, N]: an input gradient dy @ W^T without a transpose. */
export const fmaProductTransposed = (a: Float32Array, w: Float32Array, M: number, K: number, N: number): Float32Array =>
  // w's rows past N stay zero: zero rows of w are zero columns of w^T
  productPackedB(a, M, K, N, (rw) => rw.view.set(w.subarray(0, N * K)), (k, rw, bp, Np) => k.pack16t(Np, K, rw, bp))

/** a^T @ b for a [K, M], b [K, N] (row-major, K >= 1) -> [M, N]: a weight gradient x^T @ dy without a transpose. */
export const fmaTransposedProduct = (a: Float32Array, b: Float32Array, K: number, M: number, N: number): Float32Array => {
  const Mp = roundUp(M, TILE_M)
  const Np = roundUp(N, TILE_N)
  const k = fmaKernels()
  const arena = Arena.reserve(k.memory, 4 * (2 * K * Mp + 2 * K * Np + Mp * Np), 5)
  const ra = arena.floats(K * Mp, Mp !== M)
  const ap = arena.floats(K * Mp, false)
  const rb = arena.floats(K * Np, Np !== N)
  const bp = arena.floats(K * Np, false)
  const rc = arena.floats(Mp * Np, false) // the first k block writes every entry
  copyPadded(a, K, M, Mp, ra)
  copyPadded(b, K, N, Np, rb)
  k.pack2(K, Mp, ra.ptr, ap.ptr)
  k.pack16(K, Np, rb.ptr, bp.ptr)
  // A(m, k) = a[k, m] lies in panel m / 2 (8K bytes each), 8 bytes per k, the pair's second 4 bytes on
  gemmBlocks(k, K, Mp, Np, ap.ptr, 8 * K, 4, 8, bp.ptr, rc.ptr)
  return unpad(rc.view, M, N, Np)
}

/** Whether the fma per-channel matmul takes these sizes (its lanes are 4 outputs wide; any K >= 1). */
export const fmaChannelProductFits = (K: number, N: number): boolean => K > 0 && N > 0 && N % 4 === 0

/**
 * out[m, c, n] = sum_k a[m, k, c] b[k, c, n] for a [M, K, C], b [K, C, N] (row-major) -> [M, C, N],
 * the fma counterpart of attentionKernels.ts `channelProduct` (b regrouped channel-major in the module).
 */
export const fmaChannelProduct = (a: Float32Array, b: Float32Array, M: number, K: number, C: number, N: number): Float32Array => {
  const k = fmaKernels()
  const arena = Arena.reserve(k.memory, 4 * (M * K * C + 2 * K * C * N + M * C * N), 4)
  const ra = arena.floats(M * K * C, false)
  const rb = arena.floats(K * C * N, false)
  const bg = arena.floats(K * C * N, false)
  const ro = arena.floats(M * C * N, false) // every output is written
  ra.view.set(a.subarray(0, M * K * C))
  rb.view.set(b.subarray(0, K * C * N))
  k.regroup(K, C, N, rb.ptr, bg.ptr)
  k.cbmm(M, K, C, N, ra.ptr, bg.ptr, ro.ptr)
  return ro.view
}
