/**
 * Loading our own small wasm SIMD kernel modules (their .wat sources sit beside this file; the
 * compiled bytes are committed as base64, see buildKernels.ts) and carving their memory into regions.
 *
 * Each module owns its memory. Its users are synchronous (a sampling call, a gradient), so one user
 * works in a module's memory at a time: it reserves the bytes it needs from offset 0 (`Arena.reserve`;
 * growing the memory detaches every earlier view, and a new reservation reuses the previous one's
 * space), then takes its regions from that reservation.
 */

/** The part of the WebAssembly JS API used here (the project's lib settings do not declare it). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer
  grow(pages: number): number
}
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object
  readonly Instance: new (module: object) => { readonly exports: object }
}
const WebAssembly = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

/**
 * A module's exports, instantiated from its base64 bytes on first use (synchronously: our modules are
 * well under a kilobyte), then the same instance on every call.
 */
export const lazyModule = <E extends { readonly memory: WasmMemory }>(base64: string): (() => E) => {
  let exports: E | undefined
  return () => {
    if (exports === undefined) {
      exports = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(base64, "base64"))).exports as unknown as E
      instantiated.push(exports.memory)
    }
    return exports
  }
}

const instantiated: Array<WasmMemory> = []

/** Bytes held by our kernel modules' memories (they only grow): what a run's sampling and gradients reserved. */
export const kernelMemoryBytes = (): number => instantiated.reduce((a, m) => a + m.buffer.byteLength, 0)

/** A float32 array in a module's memory: its byte offset (for the kernels) and a view (for JS). */
export interface F32Region {
  readonly ptr: number
  readonly view: Float32Array
}

/** An int32 array in a module's memory. */
export interface I32Region {
  readonly ptr: number
  readonly view: Int32Array
}

const PAGE = 65536
const ALIGN = 16 // v128 loads do not need it, but aligned ones are faster

export class Arena {
  private offset = 0
  private readonly end: number
  private readonly buffer: ArrayBuffer

  private constructor(buffer: ArrayBuffer, end: number) {
    this.buffer = buffer
    this.end = end
  }

  /** Room for `bytes` (plus alignment for up to `regions` regions) from offset 0, growing the memory when needed. */
  static reserve(memory: WasmMemory, bytes: number, regions: number): Arena {
    const need = bytes + regions * ALIGN
    const have = memory.buffer.byteLength
    if (need > have) memory.grow(Math.ceil((need - have) / PAGE))
    return new Arena(memory.buffer, need)
  }

  private take(bytes: number): number {
    const ptr = Math.ceil(this.offset / ALIGN) * ALIGN
    if (ptr + bytes > this.end) throw new RangeError(`Arena: ${bytes} bytes past the reservation`)
    this.offset = ptr + bytes
    return ptr
  }

  /** `n` float32s, zeroed (or left as the previous user left them, for a caller that overwrites them all). */
  floats(n: number, zeroed = true): F32Region {
    const ptr = this.take(n * 4)
    const view = new Float32Array(this.buffer, ptr, n)
    if (zeroed) view.fill(0)
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
