import { fc, test as fcTest } from "@fast-check/vitest"
import { beforeAll, describe, expect, it } from "vitest"
import { NumericInputError } from "../../../src/numeric/errors.ts"
import { groupAdvantages } from "../../../src/numeric/losses/advantages.ts"
import { type GrpoBatch, grpoLoss, type GrpoOptions } from "../../../src/numeric/losses/grpo.ts"
import { grpoDiagnostics } from "../../../src/numeric/losses/grpoDiagnostics.ts"
import { tf } from "../../../src/numeric/tf.ts"
import {
  bits,
  centralDiff,
  expectAllClose,
  expectClose,
  f32s,
  lossAndGrad,
  shapeArb,
  targetLogp,
  tokens
} from "./harness.ts"
import { numericGrad, type RefGrpo, refGrpo, type Shape } from "./reference.ts"

beforeAll(async () => {
  await tf.setBackend("wasm")
})

/** A random GRPO case: shape, logits, batch data and options (both for tfjs and the reference). */
const grpoCase = shapeArb().chain((sh) => {
  const n = sh.B * sh.R
  return fc.record({
    sh: fc.constant(sh),
    x: f32s(n * sh.V, -2, 2),
    targets: tokens(n, sh.V),
    mask: bits(n),
    adv: f32s(sh.B, -2, 2),
    oldOffset: fc.option(f32s(n, -1.5, 1.5), { nil: undefined }),
    refOffset: f32s(n, -1, 1),
    sampleWeights: fc.option(f32s(sh.B, 0, 2), { nil: undefined }),
    lossType: fc.constantFrom("grpo", "bnpo", "dr_grpo", "dapo") as fc.Arbitrary<"grpo" | "bnpo" | "dr_grpo" | "dapo">,
    epsilon: fc.constantFrom(0.1, 0.2),
    epsilonHigh: fc.constantFrom(null, 0.28),
    delta: fc.constantFrom(null, 1.5),
    beta: fc.constantFrom(0, 0.04),
    sequence: fc.boolean(),
    biasKl: fc.boolean(),
    clipRatioC: fc.constantFrom(null, 3),
    entropyCoef: fc.constantFrom(0, 0.05),
    numItems: fc.constantFrom(null, 7)
  })
})

type Case = typeof grpoCase extends fc.Arbitrary<infer T> ? T : never

const build = (c: Case): { batch: GrpoBatch; options: GrpoOptions; ref: RefGrpo } => {
  const lp = targetLogp(c.x, c.sh, c.targets)
  const oldLogp = c.oldOffset === undefined ? undefined : lp.map((v, i) => v + c.oldOffset![i]!)
  const refLogp = lp.map((v, i) => v + c.refOffset[i]!)
  const batch: GrpoBatch = {
    targets: c.targets,
    responseMask: c.mask,
    advantages: c.adv,
    refLogp,
    ...(oldLogp === undefined ? {} : { oldLogp }),
    ...(c.sampleWeights === undefined ? {} : { sampleWeights: c.sampleWeights })
  }
  const options: GrpoOptions = {
    epsilon: c.epsilon,
    epsilonHigh: c.epsilonHigh,
    delta: c.delta,
    beta: c.beta,
    lossType: c.lossType,
    importanceSamplingLevel: c.sequence ? "sequence" : "token",
    useBiasCorrectionKl: c.biasKl,
    clipRatioC: c.clipRatioC,
    entropyCoef: c.entropyCoef,
    numItemsInBatch: c.numItems
  }
  const ref: RefGrpo = {
    targets: c.targets,
    responseMask: c.mask,
    advantages: c.adv,
    refLogp,
    ...(oldLogp === undefined ? {} : { oldLogp }),
    ...(c.sampleWeights === undefined ? {} : { sampleWeights: c.sampleWeights }),
    epsilon: c.epsilon,
    epsilonHigh: c.epsilonHigh,
    delta: c.delta,
    beta: c.beta,
    lossType: c.lossType,
    sequence: c.sequence,
    useBiasCorrectionKl: c.biasKl,
    clipRatioC: c.clipRatioC,
    entropyCoef: c.entropyCoef,
    numItemsInBatch: c.numItems
  }
  return { batch, options, ref }
}

describe("grpoLoss", () => {
  fcTest.prop([grpoCase], { seed: 11, numRuns: 40 })("value and gradient match the plain-loop reference", (c) => {
    const { batch, options, ref } = build(c)
    const got = lossAndGrad(c.sh, c.x, (l) => grpoLoss(l, batch, options))
    const x0 = Array.from(c.x)
    expectClose(got.value, refGrpo(x0, x0, c.sh, ref), 1e-5, 1e-4, "loss")
    const g = numericGrad((x) => refGrpo(x, x0, c.sh, ref), x0)
    expectAllClose(got.grad, g, 2e-5, 2e-3, "grad")
  })

  it("gradient matches float32 central differences", () => {
    fc.assert(
      fc.property(grpoCase, fc.nat(1000), (c, pickSeed) => {
        // with old log-probs given, nothing is detached, so finite differences see the same function
        const cc = { ...c, oldOffset: c.oldOffset ?? new Float32Array(c.sh.B * c.sh.R).fill(0.5) }
        const { batch, options } = build(cc)
        const f = (l: tf.Tensor3D) => grpoLoss(l, batch, options)
        const got = lossAndGrad(c.sh, c.x, f)
        for (let j = 0; j < 3; j++) {
          const i = (pickSeed + 7 * j) % c.x.length
          expectClose(got.grad[i]!, centralDiff(c.sh, c.x, f, i, 1e-2), 2e-3, 3e-2, `coord ${i}`)
        }
      }),
      { seed: 12, numRuns: 15 }
    )
  })

  it("all-equal rewards: zero advantages, zero loss and a zero policy gradient", () => {
    const sh: Shape = { B: 4, R: 3, V: 5 }
    const adv = groupAdvantages([1, 1, 0, 0], [0, 0, 1, 1])
    expect(Array.from(adv)).toEqual([0, 0, 0, 0])
    const x = Float32Array.from({ length: 60 }, (_, i) => Math.sin(i))
    const targets = Int32Array.from({ length: 12 }, (_, i) => i % 5)
    const batch: GrpoBatch = { targets, responseMask: new Float32Array(12).fill(1), advantages: adv }
    for (const lossType of ["grpo", "bnpo", "dr_grpo", "dapo"] as const) {
      const got = lossAndGrad(sh, x, (l) => grpoLoss(l, batch, { lossType }))
      expect(got.value).toBe(0)
      expect(got.grad.every((v) => v === 0)).toBe(true)
    }
  })

  it("on-policy ratio is 1: the surrogate's value is -mean(A), its gradient -A grad log pi", () => {
    const sh: Shape = { B: 2, R: 1, V: 3 }
    const x = Float32Array.from([0, 1, 2, 2, 1, 0])
    const batch: GrpoBatch = { targets: Int32Array.from([2, 1]), responseMask: Float32Array.from([1, 1]), advantages: Float32Array.from([1, -1]) }
    const got = lossAndGrad(sh, x, (l) => grpoLoss(l, batch, { lossType: "bnpo" }))
    expectClose(got.value, 0, 1e-7, 0)
    // d(-A log p_y)/dx = -A (onehot(y) - p) / 2
    const p = [Math.exp(0), Math.exp(1), Math.exp(2)].map((v, _, a) => v / (a[0]! + a[1]! + a[2]!))
    const expected = [...p.map((pi, j) => (-(j === 2 ? 1 : 0) + pi) / 2), ...[p[2]!, p[1]!, p[0]!].map((pi, j) => ((j === 1 ? 1 : 0) - pi) / 2)]
    expectAllClose(got.grad, expected, 1e-6, 1e-5)
  })

  it("diagnostics count clipped tokens and the k3 KL", () => {
    const sh: Shape = { B: 2, R: 2, V: 3 }
    const x = new Float32Array(12) // uniform: log p = -log 3
    const lp = -Math.log(3)
    const batch: GrpoBatch = {
      targets: Int32Array.from([0, 1, 2, 0]),
      responseMask: Float32Array.from([1, 1, 1, 0]),
      advantages: Float32Array.from([1, -1]),
      // ratios e^0.5 (high, A > 0: clipped), 1 (not), e^0.5 (A < 0: not clipped low), masked
      oldLogp: Float32Array.from([lp - 0.5, lp, lp - 0.5, lp]),
      refLogp: Float32Array.from([lp, lp, lp, lp])
    }
    const d = grpoDiagnostics(tf.tensor3d(x, [sh.B, sh.R, sh.V]), batch)
    expectClose(d.clipRatioHigh, 1 / 3, 1e-6, 0)
    expectClose(d.clipRatioLow, 0, 1e-9, 0)
    expectClose(d.meanKl, 0, 1e-6, 0)
    expectClose(d.entropy, Math.log(3), 1e-6, 0)
    expect(d.activeTokens).toBe(3)
    expect(d.nonZeroAdvantageFraction).toBe(1)
  })

  it("rejects bad input with a tagged error", () => {
    const logits = tf.zeros([2, 2, 3]) as tf.Tensor3D
    const ok: GrpoBatch = { targets: new Int32Array(4), responseMask: new Float32Array(4).fill(1), advantages: new Float32Array(2) }
    const bad: Array<[GrpoBatch, GrpoOptions]> = [
      [{ ...ok, targets: new Int32Array(3) }, {}],
      [{ ...ok, targets: Int32Array.from([0, 0, 0, 3]) }, {}],
      [{ ...ok, advantages: new Float32Array(3) }, {}],
      [{ ...ok, responseMask: Float32Array.from([1, 0.5, 1, 1]) }, {}],
      [ok, { beta: 0.1 }],
      [ok, { epsilon: -0.1 }],
      [ok, { delta: 0.5 }],
      [ok, { lossType: "nope" as "dapo" }]
    ]
    for (const [b, o] of bad) {
      try {
        grpoLoss(logits, b, o)
        expect.fail("should throw")
      } catch (e) {
        expect(e).toBeInstanceOf(NumericInputError)
        expect((e as NumericInputError)._tag).toBe("NumericInputError")
      }
    }
    expect(() => grpoLoss(tf.zeros([2, 3]) as unknown as tf.Tensor3D, ok)).toThrow(NumericInputError)
    logits.dispose()
  })

  it("leaks no tensors over many calls", () => {
    const sh: Shape = { B: 2, R: 3, V: 4 }
    const x = Float32Array.from({ length: 24 }, (_, i) => Math.cos(i))
    const batch: GrpoBatch = {
      targets: Int32Array.from([0, 1, 2, 3, 0, 1]),
      responseMask: new Float32Array(6).fill(1),
      advantages: Float32Array.from([0.5, -0.5]),
      refLogp: new Float32Array(6).fill(-1.4)
    }
    const run = () => {
      lossAndGrad(sh, x, (l) => grpoLoss(l, batch, { beta: 0.1, clipRatioC: 3, entropyCoef: 0.1, importanceSamplingLevel: "sequence" }))
      const t = tf.tensor3d(x, [2, 3, 4])
      grpoDiagnostics(t, batch)
      t.dispose()
    }
    run()
    const before = tf.memory().numTensors
    for (let i = 0; i < 20; i++) run()
    expect(tf.memory().numTensors).toBe(before)
  })
})
