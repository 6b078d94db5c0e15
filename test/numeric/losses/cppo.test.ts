import { fc, test as fcTest } from "@fast-check/vitest"
import { beforeAll, describe, expect, it } from "vitest"
import { NumericInputError } from "../../../src/numeric/errors.ts"
import { classifyRollouts, cppoLoss, cppoPlan, retentionLoss, sequenceLogp } from "../../../src/numeric/losses/cppo.ts"
import { type GrpoBatch, grpoLoss } from "../../../src/numeric/losses/grpo.ts"
import { tf } from "../../../src/numeric/tf.ts"
import { bits, expectAllClose, expectClose, f32s, lossAndGrad, shapeArb, targetLogp, tokens } from "./harness.ts"
import { numericGrad, rowLogp, type Shape } from "./reference.ts"

beforeAll(async () => {
  await tf.setBackend("wasm")
})

const meanStd = (xs: ReadonlyArray<number>) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length
  return [m, Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length)] as const
}

describe("CPPO", () => {
  const batchArb = fc.integer({ min: 1, max: 12 }).chain((n) =>
    fc.record({
      rewards: fc.array(fc.integer({ min: 0, max: 4 }).map((k) => k / 4), { minLength: n, maxLength: n }),
      logp: fc.array(fc.integer({ min: -4000, max: 0 }).map((k) => k / 100), { minLength: n, maxLength: n }),
      k: fc.constantFrom(0, 0.5, 1)
    })
  )

  fcTest.prop([batchArb], { seed: 41, numRuns: 60 })("classifies by mu +- k sigma of reward and log-probability", ({ rewards, logp, k }) => {
    const types = classifyRollouts(rewards, logp, k)
    const [mr, sr] = meanStd(rewards)
    const [mp, sp] = meanStd(logp)
    types.forEach((t, i) => {
      const hiR = rewards[i]! > mr + k * sr
      const loR = rewards[i]! < mr - k * sr
      const hiP = logp[i]! > mp + k * sp
      const loP = logp[i]! < mp - k * sp
      const want = hiR && hiP ? "high-performance" : loR && hiP ? "overfitting" : hiR && loP ? "high-variance" : loR && loP ? "noisy" : "normal"
      expect(t).toBe(want)
    })
  })

  it("heuristic weights follow the table", () => {
    // rewards and log-probs chosen so each of the four corners and a normal point appear (k = 0.5)
    const rewards = [1, 0, 1, 0, 0.5]
    const logp = [-1, -1, -9, -9, -5]
    const plan = cppoPlan(rewards, logp, { k: 0.5, ub: 2, lb: 0.25 })
    expect(plan.types).toEqual(["high-performance", "overfitting", "high-variance", "noisy", "normal"])
    expect(Array.from(plan.alpha)).toEqual([2, 2, 2, 0.25, 1])
    expect(Array.from(plan.beta)).toEqual([2, 0.25, 0.25, 0.25, 1])
    expect(() => cppoPlan(rewards, logp, { ub: 0.1, lb: 0.5 })).toThrow(NumericInputError)
    expect(() => classifyRollouts([1, 2], [0])).toThrow(NumericInputError)
  })

  const retCase = shapeArb().chain((sh) =>
    fc.record({
      sh: fc.constant(sh),
      x: f32s(sh.B * sh.R * sh.V, -2, 2),
      targets: tokens(sh.B * sh.R, sh.V),
      mask: bits(sh.B * sh.R),
      ref: f32s(sh.B, -6, 0),
      beta: f32s(sh.B, 0, 2)
    })
  )

  fcTest.prop([retCase], { seed: 42, numRuns: 30 })("retention term and gradient match the plain-loop reference", (c) => {
    const ref = (x: ArrayLike<number>, sh: Shape) => {
      let s = 0
      for (let b = 0; b < sh.B; b++) {
        let lp = 0
        for (let r = 0; r < sh.R; r++) lp += rowLogp(x, sh, b, r)[c.targets[b * sh.R + r]!]! * c.mask[b * sh.R + r]!
        s += c.beta[b]! * (lp - c.ref[b]!) ** 2
      }
      return s / sh.B
    }
    const got = lossAndGrad(c.sh, c.x, (l) => retentionLoss(l, { targets: c.targets, responseMask: c.mask, refSeqLogp: c.ref, beta: c.beta }))
    expectClose(got.value, ref(c.x, c.sh), 1e-5, 1e-4, "loss")
    expectAllClose(got.grad, numericGrad((x) => ref(x, c.sh), Array.from(c.x)), 5e-5, 2e-3, "grad")
  })

  it("cppoLoss = alpha-weighted policy loss + beta-weighted retention; alpha = 1 leaves GRPO unchanged", () => {
    const sh: Shape = { B: 4, R: 2, V: 3 }
    const x = Float32Array.from({ length: 24 }, (_, i) => Math.sin(2 * i))
    const targets = Int32Array.from([0, 1, 2, 0, 1, 2, 0, 1])
    const responseMask = new Float32Array(8).fill(1)
    const batch: GrpoBatch = { targets, responseMask, advantages: Float32Array.from([1, -1, 0.5, -0.5]) }
    const seq = sequenceLogp(targetLogp(x, sh, targets), responseMask, 4)
    const plan = cppoPlan([1, 0, 1, 0], seq, { k: 0 })
    const refSeqLogp = seq.map((v) => v - 0.5)
    const f = (l: tf.Tensor3D) => cppoLoss(l, plan, { targets, responseMask, refSeqLogp }, (w) => grpoLoss(l, { ...batch, sampleWeights: w }))
    const got = lossAndGrad(sh, x, f)
    const pol = lossAndGrad(sh, x, (l) => grpoLoss(l, { ...batch, sampleWeights: plan.alpha }))
    const ret = lossAndGrad(sh, x, (l) => retentionLoss(l, { targets, responseMask, refSeqLogp, beta: plan.beta }))
    expectClose(got.value, pol.value + ret.value, 1e-6, 1e-5)
    expectAllClose(got.grad, pol.grad.map((g, i) => g + ret.grad[i]!), 1e-6, 1e-5)
    const ones = lossAndGrad(sh, x, (l) => grpoLoss(l, { ...batch, sampleWeights: new Float32Array(4).fill(1) }))
    const plain = lossAndGrad(sh, x, (l) => grpoLoss(l, batch))
    expectAllClose(ones.grad, plain.grad, 0, 0)
  })

  it("leaks no tensors", () => {
    const sh: Shape = { B: 2, R: 2, V: 3 }
    const x = Float32Array.from({ length: 12 }, (_, i) => Math.cos(i))
    const targets = Int32Array.from([0, 1, 2, 0])
    const responseMask = new Float32Array(4).fill(1)
    const plan = cppoPlan([1, 0], [-1, -2])
    const run = () =>
      lossAndGrad(sh, x, (l) =>
        cppoLoss(l, plan, { targets, responseMask, refSeqLogp: Float32Array.from([-2, -2]) }, (w) =>
          grpoLoss(l, { targets, responseMask, advantages: Float32Array.from([1, -1]), sampleWeights: w })
        )
      )
    run()
    const before = tf.memory().numTensors
    for (let i = 0; i < 20; i++) run()
    expect(tf.memory().numTensors).toBe(before)
  })
})
