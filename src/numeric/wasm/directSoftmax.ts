/**
 * tfjs-wasm's own Softmax kernel (XNNPACK's softmax over the last axis) called directly on the
 * memory of two tensors kept for the purpose: the same function `tf.softmax` runs, so the same bits,
 * without the engine's per-call work (input tensor, kernel dispatch, output allocation, read-back and
 * disposal). A decode step's attention softmax over [C, L] logits took ~90 µs through the engine
 * and ~8 µs this way; a sampling call makes a few hundred of them.
 *
 * It relies on two internals of @tensorflow/tfjs-backend-wasm (pinned by package-lock.json): the
 * module's exported `_Softmax(xId, outId, channels, batch)` and the backend's tensor ids
 * (`dataIdMap`). `open()` returns undefined without the export (the fused decoder is then not used
 * and sampling keeps tf.softmax); `run` throws if the backend no longer knows its tensors.
 * test/numeric/fusedDecode.test.ts compares the two bit for bit.
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm"
import { tf } from "../tf.ts"
import { heapView } from "./heapView.ts"
import { outputTensor } from "./tfjsHeap.ts"

type SoftmaxExport = (xId: number, outId: number, channels: number, batch: number) => void

const softmaxExport = (): SoftmaxExport | undefined => {
  if (tf.getBackend() !== "wasm") return undefined
  const f = (tf.backend() as unknown as { wasm: { _Softmax?: SoftmaxExport } }).wasm._Softmax
  return typeof f === "function" ? f : undefined
}

const idOf = (t: tf.Tensor): number | undefined => (tf.backend() as BackendWasm).dataIdMap.get(t.dataId)?.id

export class DirectSoftmax {
  private readonly kernel: SoftmaxExport
  private x: tf.Tensor | undefined
  private out: tf.Tensor | undefined
  private capacity = 0

  private constructor(kernel: SoftmaxExport) {
    this.kernel = kernel
  }

  /** The direct kernel, or undefined where it is not available (another backend or tfjs build). */
  static open(): DirectSoftmax | undefined {
    const kernel = softmaxExport()
    return kernel === undefined ? undefined : new DirectSoftmax(kernel)
  }

  /**
   * Softmax of each of the C rows of `logits` [C, L] (C, L >= 1). Returns a view of the result,
   * valid until the next call or `dispose`.
   */
  run(logits: Float32Array, C: number, L: number): Float32Array {
    const n = C * L
    if (n > this.capacity || this.x === undefined || this.out === undefined) {
      this.dispose()
      this.capacity = Math.max(n, 2 * this.capacity)
      this.x = outputTensor([this.capacity]).tensor
      this.out = outputTensor([this.capacity]).tensor
    }
    const [xId, outId] = [idOf(this.x), idOf(this.out)]
    if (xId === undefined || outId === undefined) throw new Error("DirectSoftmax: the backend no longer knows its tensors")
    heapView(this.x).set(logits.subarray(0, n))
    this.kernel(xId, outId, L, C)
    return heapView(this.out).subarray(0, n)
  }

  dispose(): void {
    this.x?.dispose()
    this.out?.dispose()
    this.x = undefined
    this.out = undefined
    this.capacity = 0
  }
}
