/**
 * AdamW's update in one wasm kernel (wasm/adamKernels.ts) against adam.ts's chain of tfjs ops, bit
 * for bit, and adamApply's two paths (the kernel on wasm, the ops elsewhere) agreeing.
 */
import { fc, test as fcTest } from "@fast-check/vitest"
import { beforeAll, expect, test } from "vitest"
import { Rng } from "../../src/core/Rng.ts"
import { type AdamConfig, adamStepOps } from "../../src/numeric/optim/adam.ts"
import { initBackend } from "../../src/numeric/index.ts"
import { tf } from "../../src/numeric/tf.ts"
import { adamUpdate, adamUpdateOf } from "../../src/numeric/wasm/adamKernels.ts"

const bitsOf = (a: Float32Array): Array<number> => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length))

/** Values across float32's range: signed zeros, subnormals, tiny, ordinary and large magnitudes. */
const values = (n: number, r: Rng, positive: boolean): Float32Array =>
  Float32Array.from({ length: n }, () => {
    const kind = r.below(8)
    const x = kind === 0 ? 0 : kind === 1 ? 1e-41 * r.float() : (r.float() + 0.01) * 2 ** (r.below(60) - 40)
    return positive || r.below(2) === 0 ? x : -x
  })

beforeAll(async () => {
  await initBackend("wasm", { fma: false })
})

const caseArb = fc.record({
  n: fc.integer({ min: 1, max: 67 }), // across whole vectors of 4 and a tail
  seed: fc.nat(10_000),
  beta1: fc.constantFrom(0.9, 0.8, 0.95, 0),
  beta2: fc.constantFrom(0.999, 0.99, 0.95),
  eps: fc.constantFrom(1e-8, 1e-6, 1e-30),
  lr: fc.constantFrom(1e-3, 3e-4, 1e-2, 0.7),
  step: fc.integer({ min: 1, max: 5000 }),
  clip: fc.option(fc.double({ min: 1e-6, max: 1, noNaN: true }), { nil: undefined }),
  weightDecay: fc.constantFrom(0, 0.01, 0.1),
  noGrad: fc.boolean()
})

fcTest.prop([caseArb], { numRuns: 200, seed: 89 })("the kernel's p, m, v are the tfjs ops' bits", (c) => {
  const r = Rng.root(c.seed)
  const [p, m, g] = [values(c.n, r, false), values(c.n, r, false), values(c.n, r, false)]
  const v = values(c.n, r, true) // a second moment is never negative
  const cfg: AdamConfig = { beta1: c.beta1, beta2: c.beta2, eps: c.eps, weightDecay: c.weightDecay }
  const lrOverBc1 = c.lr / (1 - Math.pow(c.beta1, c.step))
  const bc2 = 1 - Math.pow(c.beta2, c.step)
  const kd = c.weightDecay > 0 ? c.lr * c.weightDecay : undefined
  const ops = tf.tidy(() => {
    const gt = c.noGrad ? tf.zeros([c.n]) : c.clip === undefined ? tf.tensor1d(g) : tf.tensor1d(g).mul(c.clip)
    const out = adamStepOps(tf.tensor1d(p), tf.tensor1d(m), tf.tensor1d(v), gt, cfg, lrOverBc1, bc2, kd)
    return [out.p, out.m, out.v].map((x) => x.dataSync() as Float32Array)
  })
  const consts = { scale: c.clip ?? 1, beta1: c.beta1, beta2: c.beta2, eps: c.eps, lrOverBc1, bc2, lrDecay: kd }
  // on plain arrays (the module's own memory) and on tensors (in the tfjs heap)
  const arrays = adamUpdate(p, m, v, c.noGrad ? undefined : g, consts)
  const fromArrays = [arrays.p, arrays.m, arrays.v].map((x) => x.slice())
  const fromTensors = tf.tidy(() => {
    const out = adamUpdateOf(tf.tensor1d(p), tf.tensor1d(m), tf.tensor1d(v), c.noGrad ? undefined : tf.tensor1d(g), consts)
    return [out.p, out.m, out.v].map((x) => x.dataSync() as Float32Array)
  })
  for (let i = 0; i < 3; i++) {
    expect(bitsOf(fromArrays[i]!)).toEqual(bitsOf(ops[i]!))
    expect(bitsOf(fromTensors[i]!)).toEqual(bitsOf(ops[i]!))
  }
})

test("the kernel is not the identity: one update moves p against the gradient", () => {
  const out = adamUpdate(new Float32Array([1, 1]), new Float32Array(2), new Float32Array(2), new Float32Array([0.5, -0.5]), {
    scale: 1,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    lrOverBc1: 0.1 / (1 - 0.9),
    bc2: 1 - 0.999,
    lrDecay: undefined
  })
  // the first Adam step is lr * sign(g) (up to eps)
  expect(Array.from(out.p)).toEqual([Math.fround(1 - 0.1), Math.fround(1 + 0.1)].map((x) => expect.closeTo(x, 6)))
  expect(Array.from(out.m)).toEqual([Math.fround(0.05), Math.fround(-0.05)].map((x) => expect.closeTo(x, 7)))
})
