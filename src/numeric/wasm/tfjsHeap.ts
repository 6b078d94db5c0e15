/**
 * Our kernel modules working in the tfjs wasm backend's own heap: instantiated with the backend's
 * memory as their env.memory (the `importMemory` builds of buildKernels.ts), they read tensors where
 * they lie and write straight into new output tensors.
 *
 * Why: a kernel module with its own memory needs every operand copied in (`heapView` then a
 * TypedArray set) and its result copied out into a new tensor (tfjs allocates and copies again); in
 * the fma mode's train step at d=64 those copies and allocations were about a tenth of the step.
 *
 * Only the single-threaded wasm build qualifies: the threaded build's heap is shared memory, which a
 * module has to declare shared (and our modules do not); there callers keep the copying path.
 * Results are the same bits either way (the same kernels on the same values).
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm"
import { tf } from "../tf.ts"
import type { WasmMemory } from "./kernelModule.ts"

/** The parts of tfjs-wasm's Emscripten module used here. */
interface Emscripten {
  readonly asm?: { readonly memory?: WasmMemory }
  readonly _malloc: (bytes: number) => number
  readonly _free: (ptr: number) => void
}
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object
  readonly Instance: new (module: object, imports: object) => { readonly exports: object }
}
const WebAssembly = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

const backend = (): BackendWasm => tf.backend() as BackendWasm
const emscripten = (): Emscripten => backend().wasm as unknown as Emscripten

/** The backend's memory when our modules can import it (wasm backend, single-threaded build), else undefined. */
const heapMemory = (): WasmMemory | undefined => {
  if (tf.getBackend() !== "wasm") return undefined
  const memory = emscripten().asm?.memory
  if (memory === undefined || (typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer)) return undefined
  return memory
}

/**
 * A heap-importing module's exports bound to the current backend's memory (instantiated on first
 * use, again if the memory is another), or undefined where the heap cannot be imported.
 */
export const heapModule = <E>(base64: string): (() => E | undefined) => {
  let bound: { readonly memory: WasmMemory; readonly exports: E } | undefined
  return () => {
    const memory = heapMemory()
    if (memory === undefined) return undefined
    if (bound?.memory !== memory) {
      const instance = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(base64, "base64")), { env: { memory } })
      bound = { memory, exports: instance.exports as E }
    }
    return bound.exports
  }
}

/** Byte offset of a tensor's data in the heap (stable while the tensor lives, even when the heap grows). */
export const offsetOf = (t: tf.TensorInfo): number => backend().getMemoryOffset(t.dataId)

/**
 * A new float32 tensor of this shape, allocated in the heap and not initialised (the caller's kernel
 * writes every value before anything reads it), and its byte offset.
 */
export const outputTensor = <R extends tf.Rank>(shape: Array<number>): { readonly tensor: tf.Tensor<R>; readonly offset: number } => {
  const info = backend().makeOutput(shape, "float32")
  return { tensor: tf.engine().makeTensorFromTensorInfo(info) as tf.Tensor<R>, offset: offsetOf(info) }
}

/** A block of the heap owned by its caller, who frees it (see `heapBlock`). */
export interface HeapBlock {
  readonly ptr: number
  /** The heap's current buffer (re-read after anything that may grow the heap: growing detaches views). */
  readonly buffer: () => ArrayBuffer
  readonly free: () => void
}

/**
 * `bytes` of the heap (16-byte aligned, uninitialised) for a caller that keeps state there across
 * tfjs calls (a sampling call's decode buffers), freed by `free()`; undefined where the heap cannot
 * be imported.
 */
export const heapBlock = (bytes: number): HeapBlock | undefined => {
  const memory = heapMemory()
  if (memory === undefined) return undefined
  const raw = emscripten()._malloc(bytes + 16) >>> 0
  if (raw === 0) throw new RangeError(`heapBlock: the tfjs heap could not allocate ${bytes} bytes`)
  let freed = false
  return {
    ptr: Math.ceil(raw / 16) * 16,
    buffer: () => memory.buffer,
    free: () => {
      if (!freed) emscripten()._free(raw)
      freed = true
    }
  }
}

let scratch: { readonly memory: WasmMemory; readonly ptr: number; readonly bytes: number } | undefined

/**
 * Byte offset of a scratch block of at least `bytes` in the heap, for packed operands: one block,
 * kept between calls and reallocated larger when needed (its contents do not survive a call).
 * Allocating may grow the heap, which detaches earlier views of it (offsets stay valid).
 */
export const scratchOffset = (bytes: number): number => {
  const memory = heapMemory()
  if (memory === undefined) throw new Error("scratchOffset: the tfjs heap cannot be imported here")
  if (scratch === undefined || scratch.memory !== memory || scratch.bytes < bytes) {
    if (scratch !== undefined && scratch.memory === memory) emscripten()._free(scratch.ptr)
    const size = Math.max(bytes, 2 * (scratch?.bytes ?? 0)) // grow geometrically: few reallocations
    scratch = { memory, ptr: emscripten()._malloc(size) >>> 0, bytes: size }
  }
  return scratch.ptr
}
