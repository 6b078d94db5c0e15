/**
 * The decode-attention kernels (decodeKernels.wat, wasm SIMD) and the memory they work in.
 *
 * One module instance per process. `sample` is synchronous, so one call uses it at a time: it
 * reserves the bytes it needs once (`DecodeArena.reserve`; growing the memory detaches every earlier
 * view, and a new reservation reuses the space of the previous call's), then carves its caches and
 * scratch out of that reservation.
 */
import { DECODE_KERNELS_WASM } from "./decodeKernels.bytes.ts"

/** The part of the WebAssembly JS API used here (the project's lib settings do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer
  grow(pages: number): number
}
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object
  readonly Instance: new (module: object) => { readonly exports: object }
}
const WebAssembly = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

interface KernelExports {
  readonly memory: WasmMemory
  readonly scores: (C: number, dh: number, T: number, L: number, q: number, k: number, n: number, s: number) => void
  readonly mix: (C: number, dh: number, T: number, L: number, p: number, v: number, n: number, y: number) => void
}

let instance: KernelExports | undefined

/** The kernels' exports (compiled on first use: 0.5 KB, well under a millisecond). */
export const decodeKernels = (): KernelExports =>
  (instance ??= new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(DECODE_KERNELS_WASM, "base64"))).exports as unknown as KernelExports)

/** Whether the SIMD kernels handle a head size (lanes are 4 floats); otherwise the JS sums are used. */
export const kernelsFit = (dh: number): boolean => dh >= 4 && dh % 4 === 0

/** A float32 array in the kernels' memory: its byte offset (for the kernels) and a view (for JS). */
export interface F32Region {
  readonly ptr: number
  readonly view: Float32Array
}

/** An int32 array in the kernels' memory. */
export interface I32Region {
  readonly ptr: number
  readonly view: Int32Array
}

const PAGE = 65536
const ALIGN = 16 // v128 loads do not need it, but aligned ones are faster

export class DecodeArena {
  private offset = 0
  private readonly end: number
  private readonly buffer: ArrayBuffer

  private constructor(buffer: ArrayBuffer, end: number) {
    this.buffer = buffer
    this.end = end
  }

  /** Room for `bytes` (plus alignment for up to `regions` regions) from offset 0, growing the memory when needed. */
  static reserve(bytes: number, regions: number): DecodeArena {
    const memory = decodeKernels().memory
    const need = bytes + regions * ALIGN
    const have = memory.buffer.byteLength
    if (need > have) memory.grow(Math.ceil((need - have) / PAGE))
    return new DecodeArena(memory.buffer, need)
  }

  private take(bytes: number): number {
    const ptr = Math.ceil(this.offset / ALIGN) * ALIGN
    if (ptr + bytes > this.end) throw new RangeError(`DecodeArena: ${bytes} bytes past the reservation`)
    this.offset = ptr + bytes
    return ptr
  }

  /** `n` float32s, zeroed. */
  floats(n: number): F32Region {
    const ptr = this.take(n * 4)
    const view = new Float32Array(this.buffer, ptr, n)
    view.fill(0)
    return { ptr, view }
  }

  /** `n` int32s, zeroed. */
  ints(n: number): I32Region {
    const ptr = this.take(n * 4)
    const view = new Int32Array(this.buffer, ptr, n)
    view.fill(0)
    return { ptr, view }
  }
}
