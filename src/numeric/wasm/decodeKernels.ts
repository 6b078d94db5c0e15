/** The decode-attention kernels (decodeKernels.wat, wasm SIMD): see sampling/decodeAttention.ts. */
import { DECODE_KERNELS_WASM } from "./decodeKernels.bytes.ts"
import { Arena, type WasmMemory, lazyModule } from "./kernelModule.ts"

interface DecodeExports {
  readonly memory: WasmMemory
  readonly append: (C: number, H: number, dh: number, T: number, qkv: number, pos: number, scale: number, k: number, v: number, q: number, n: number) => void
  readonly scores: (C: number, dh: number, T: number, L: number, q: number, k: number, n: number, s: number) => void
  readonly mix: (C: number, dh: number, T: number, L: number, p: number, v: number, n: number, y: number) => void
}

/** The kernels' exports (compiled on first use). */
export const decodeKernels = lazyModule<DecodeExports>(DECODE_KERNELS_WASM)

/** Room in the decode kernels' memory for one sampling call (see kernelModule.ts). */
export const decodeArena = (bytes: number, regions: number): Arena => Arena.reserve(decodeKernels().memory, bytes, regions)

/** Whether the SIMD kernels handle a head size (lanes are 4 floats); otherwise the JS sums are used. */
export const kernelsFit = (dh: number): boolean => dh >= 4 && dh % 4 === 0
