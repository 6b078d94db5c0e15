/**
 * AdamW's elementwise update of one parameter in our wasm SIMD kernel (adamKernels.wat): the same
 * bits as optim/adam.ts's chain of tfjs ops (see the .wat for why), in one pass instead of about 14
 * kernel launches.
 *
 * On tensors (`adamUpdateOf`, optim/adam.ts) the kernel runs in the tfjs heap where it can be
 * imported (tfjsHeap.ts): it reads p, m, v and the gradient in place and writes three new tensors.
 * Otherwise, and for plain arrays (`adamUpdate`), the operands are copied into the module's memory and
 * updated there.
 */
import { tf } from "../tf.ts"
import { ADAM_KERNELS_WASM } from "./adamKernels.bytes.ts"
import { ADAM_KERNELS_HEAP_WASM } from "./adamKernelsHeap.bytes.ts"
import { heapView } from "./heapView.ts"
import { Arena, type WasmMemory, lazyModule } from "./kernelModule.ts"
import { heapModule, offsetOf, outputTensor } from "./tfjsHeap.ts"

interface AdamExports {
  readonly adam: (
    n: number, p: number, m: number, v: number, g: number, hasGrad: number, p1: number, m1: number, v1: number,
    scale: number, b1: number, omb1: number, b2: number, omb2: number, eps: number, k1: number, bc2: number, kd: number, decay: number
  ) => void
}

const kernels = lazyModule<AdamExports & { readonly memory: WasmMemory }>(ADAM_KERNELS_WASM)
const heapKernels = heapModule<AdamExports>(ADAM_KERNELS_HEAP_WASM)

/** The update's constants, as JS numbers: the kernel takes each as the float32 tfjs would make of it. */
export interface AdamConstants {
  /** the clipping scale every gradient is multiplied by first (1: no clipping, an exact no-op) */
  readonly scale: number
  readonly beta1: number
  readonly beta2: number
  readonly eps: number
  /** lr / (1 - beta1^t) */
  readonly lrOverBc1: number
  /** 1 - beta2^t */
  readonly bc2: number
  /** lr * weightDecay for a decayed parameter, undefined otherwise */
  readonly lrDecay: number | undefined
}

/** Runs the kernel on n floats at the given byte offsets (g < 0: no gradient, zeros). */
const run = (k: AdamExports, n: number, p: number, m: number, v: number, g: number, out: [number, number, number], c: AdamConstants): void =>
  // each number becomes a float32 as tfjs makes a scalar of it (1 - b computed in float64 first, as adam.ts does)
  k.adam(n, p, m, v, Math.max(g, 0), g < 0 ? 0 : 1, ...out, c.scale, c.beta1, 1 - c.beta1, c.beta2, 1 - c.beta2, c.eps, c.lrOverBc1, c.bc2, c.lrDecay ?? 0, c.lrDecay === undefined ? 0 : 1)

/**
 * New p, m and v (views into the module's memory, each of p.length values, valid until the next
 * call: copy them out at once) from the current ones and the gradient g (undefined: zeros):
 *   g' = g * scale;  m1 = m b1 + g' (1 - b1);  v1 = v b2 + g'^2 (1 - b2)
 *   upd = m1 (lr / bc1) / (sqrt(v1 / bc2) + eps) [+ p (lr wd)];  p1 = p - upd
 */
export const adamUpdate = (
  p: Float32Array,
  m: Float32Array,
  v: Float32Array,
  g: Float32Array | undefined,
  c: AdamConstants
): { readonly p: Float32Array; readonly m: Float32Array; readonly v: Float32Array } => {
  const n = p.length
  const k = kernels()
  const arena = Arena.reserve(k.memory, 16 * n, 4)
  const [rp, rm, rv] = [arena.floats(n, false), arena.floats(n, false), arena.floats(n, false)]
  const rg = arena.floats(g === undefined ? 0 : n, false)
  rp.view.set(p.subarray(0, n))
  rm.view.set(m.subarray(0, n))
  rv.view.set(v.subarray(0, n))
  if (g !== undefined) rg.view.set(g.subarray(0, n))
  run(k, n, rp.ptr, rm.ptr, rv.ptr, g === undefined ? -1 : rg.ptr, [rp.ptr, rm.ptr, rv.ptr], c) // in place
  return { p: rp.view, m: rm.view, v: rv.view }
}

/** `adamUpdate` on tensors (float32, the same size; g undefined: zeros): three new tensors of p's shape. */
export const adamUpdateOf = (p: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor | undefined, c: AdamConstants): { p: tf.Tensor; m: tf.Tensor; v: tf.Tensor } => {
  const k = heapKernels()
  if (k === undefined) {
    const out = adamUpdate(heapView(p), heapView(m), heapView(v), g === undefined ? undefined : heapView(g), c)
    return { p: tf.tensor(out.p, p.shape), m: tf.tensor(out.m, p.shape), v: tf.tensor(out.v, p.shape) }
  }
  const [p1, m1, v1] = [outputTensor(p.shape), outputTensor(p.shape), outputTensor(p.shape)]
  run(k, p.size, offsetOf(p), offsetOf(m), offsetOf(v), g === undefined ? -1 : offsetOf(g), [p1.offset, m1.offset, v1.offset], c)
  return { p: p1.tensor, m: m1.tensor, v: v1.tensor }
}
