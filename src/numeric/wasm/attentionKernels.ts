/**
 * The attention's per-channel matmul in our wasm SIMD kernel (attentionKernels.wat): the same bits
 * as tfjs-wasm's depthwise convolution when the summed axis is a multiple of 8, without packing the
 * fresh second operand on every call.
 */
import { ATTENTION_KERNELS_WASM } from "./attentionKernels.bytes.ts"
import { Arena, type WasmMemory, lazyModule } from "./kernelModule.ts"

interface AttentionExports {
  readonly memory: WasmMemory
  readonly cbmm: (M: number, K: number, C: number, N: number, a: number, b: number, out: number) => void
}

const kernels = lazyModule<AttentionExports>(ATTENTION_KERNELS_WASM)

/**
 * Whether the kernel reproduces the convolution's bits for these sizes: XNNPACK sums the K axis in
 * blocks of 8 and a shorter tail another way (see the sampler's alignLength), and the kernel's lanes
 * are 4 outputs wide.
 */
export const channelProductFits = (K: number, N: number): boolean => K > 0 && K % 8 === 0 && N > 0 && N % 4 === 0

/**
 * out[m, c, n] = sum_k a[m, k, c] b[k, c, n] for a [M, K, C], b [K, C, N] (row-major) -> [M, C, N]:
 * a view into the kernel's memory, valid until the next call (wrap it in a tensor, which copies, at once).
 */
export const channelProduct = (a: Float32Array, b: Float32Array, M: number, K: number, C: number, N: number): Float32Array => {
  const k = kernels()
  const arena = Arena.reserve(k.memory, 4 * (M * K * C + K * C * N + M * C * N), 3)
  const ra = arena.floats(M * K * C, false)
  const rb = arena.floats(K * C * N, false)
  const ro = arena.floats(M * C * N, false) // every output is written
  ra.view.set(a)
  for (let kk = 0; kk < K; kk++) for (let c = 0; c < C; c++) rb.view.set(b.subarray((kk * C + c) * N, (kk * C + c + 1) * N), (c * K + kk) * N)
  k.cbmm(M, K, C, N, ra.ptr, rb.ptr, ro.ptr)
  return ro.view
}
