/**
 * tfjs's Identity kernel for the wasm backend, replaced by one that shares its input's data.
 *
 * Why: tfjs runs Identity for every tensor a gradient keeps for the backward pass (the engine's
 * `clone` in customGrad's `save` and for the built-in ops' saved inputs), about 120 calls a train
 * step, and tfjs-wasm's Identity copies the data each time (about 10 ms of a 64 x 48 step at
 * d=64). The cpu backend's Identity shares the data instead (one more reference to the same buffer),
 * as tfjs-wasm's own Reshape does: no kernel writes into an existing buffer, so a shared buffer
 * holds the same values as a copy would, and every result keeps its bits.
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm"
import { tf } from "../tf.ts"

let installed = false

/** Registers the sharing Identity for the wasm backend (once per process; tfjs's stays for strings). */
export const shareIdentityOnWasm = (): void => {
  if (installed) return
  const copying = tf.getKernel(tf.Identity, "wasm")
  if (copying === undefined) return
  tf.unregisterKernel(tf.Identity, "wasm")
  tf.registerKernel({
    kernelName: tf.Identity,
    backendName: "wasm",
    kernelFunc: (args) => {
      const x = args.inputs["x"] as tf.TensorInfo
      if (x.dtype === "string") return copying.kernelFunc(args)
      ;(args.backend as BackendWasm).incRef(x.dataId)
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype }
    }
  })
  installed = true
}
