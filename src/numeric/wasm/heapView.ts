/**
 * A float32 tensor's values read in place from the wasm backend's heap, for copying straight into
 * one of our kernel modules (`dataSync` would first copy them into a fresh array: an allocation, page
 * faults and garbage per read, about 20 ms a train step for the weight-gradient operands).
 *
 * The view is only valid until the next tfjs operation (which may grow the heap and detach it): copy
 * out of it at once.
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm"
import { tf } from "../tf.ts"

export const heapView = (t: tf.Tensor): Float32Array => {
  if (tf.getBackend() !== "wasm" || t.dtype !== "float32") return t.dataSync() as Float32Array
  const backend = tf.backend() as BackendWasm
  const heap = (backend.wasm as unknown as { readonly HEAPU8: Uint8Array }).HEAPU8 // Emscripten's, untyped here
  return new Float32Array(heap.buffer, backend.getMemoryOffset(t.dataId), t.size)
}
