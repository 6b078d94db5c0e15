/**
 * LayerNorm in our kernels (wasm/lnKernels.ts, working in the tfjs heap) against ops.ts's chain of
 * tfjs ops, value and gradients, bit for bit.
 */
import { fc, test as fcTest } from "@fast-check/vitest"
import { beforeAll, expect, test } from "vitest"
import { Rng } from "../../src/core/Rng.ts"
import { initBackend } from "../../src/numeric/index.ts"
import { layerNorm, layerNormOps } from "../../src/numeric/model/ops.ts"
import { tf } from "../../src/numeric/tf.ts"
import { lnKernels } from "../../src/numeric/wasm/lnKernels.ts"

const bitsOf = (a: Float32Array): Array<number> => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length))

/** Rows of mixed scales and offsets (so that centring and rounding matter), some constant, some zero. */
const rows = (N: number, d: number, r: Rng): Float32Array => {
  const x = new Float32Array(N * d)
  for (let m = 0; m < N; m++) {
    const kind = r.below(6)
    const scale = 2 ** (r.below(20) - 10)
    const offset = (r.float() - 0.5) * 2 ** r.below(8)
    for (let k = 0; k < d; k++) x[m * d + k] = kind === 0 ? 0 : kind === 1 ? offset : offset + (r.float() - 0.5) * scale
  }
  return x
}

beforeAll(async () => {
  await initBackend("wasm", { threads: 1 })
})

test("the single-threaded backend's heap takes the kernels (else layerNorm ran its ops below)", () => {
  expect(lnKernels()).toBeDefined()
})

// rows across the 4-row blocks, widths across the 4-wide vectors and their tails
const dimsArb = fc.record({ N: fc.integer({ min: 1, max: 23 }), d: fc.integer({ min: 1, max: 70 }), seed: fc.nat(10_000) })

fcTest.prop([dimsArb], { numRuns: 60, seed: 101 })("value and gradients are the tfjs ops' bits", ({ N, d, seed }) => {
  const r = Rng.root(seed)
  const x = tf.tensor2d(rows(N, d, r), [N, d])
  const g = tf.tensor1d(Float32Array.from({ length: d }, () => (r.float() - 0.5) * 4))
  const b = tf.tensor1d(Float32Array.from({ length: d }, () => r.float() - 0.5))
  const dy = tf.tensor2d(rows(N, d, r), [N, d])
  const run = (f: typeof layerNorm): Array<Float32Array> =>
    tf.tidy(() => {
      const fn = (a: tf.Tensor, c: tf.Tensor, e: tf.Tensor) => f(a as tf.Tensor2D, c as tf.Tensor1D, e as tf.Tensor1D)
      return [fn(x, g, b), ...tf.grads(fn)([x, g, b], dy)].map((t) => t.dataSync() as Float32Array)
    })
  const kernels = run(layerNorm)
  const ops = run(layerNormOps)
  for (let i = 0; i < 4; i++) expect(bitsOf(kernels[i]!)).toEqual(bitsOf(ops[i]!))
  tf.dispose([x, g, b, dy])
})
