import { fc, test as fcTest } from "@fast-check/vitest"
import { beforeAll, describe, expect, it } from "vitest"
import { NumericInputError } from "../../../src/numeric/errors.ts"
import { grpoLoss } from "../../../src/numeric/losses/grpo.ts"
import { topkIndices } from "../../../src/numeric/losses/divergence.ts"
import { type SdpoBatch, sdpoLoss, type SdpoOptions } from "../../../src/numeric/losses/sdpo.ts"
import { sdpoDiagnostics } from "../../../src/numeric/losses/sdpoDiagnostics.ts"
import { tf } from "../../../src/numeric/tf.ts"
import { bits, centralDiff, expectAllClose, expectClose, f32s, lossAndGrad, shapeArb, targetLogp, tokens } from "./harness.ts"
import { logSoftmax, numericGrad, type RefSdpo, refSdpo, type Shape } from "./reference.ts"

beforeAll(async () => {
  await tf.setBackend("wasm")
})

type Mode = "full" | "topk" | "sampled"

const sdpoCase = shapeArb().chain((sh) => {
  const n = sh.B * sh.R
  return fc.record({
    sh: fc.constant(sh),
    // coarse values make ties, which exercise the top-k tie-break (lower token id first)
    x: fc.oneof(f32s(n * sh.V, -2, 2), fc.array(fc.constantFrom(-1, 0, 1), { minLength: n * sh.V, maxLength: n * sh.V }).map((a) => Float32Array.from(a))),
    teacher: f32s(n * sh.V, -3, 2),
    targets: tokens(n, sh.V),
    mask: bits(n),
    teacherMask: bits(sh.B),
    adv: f32s(sh.B, -2, 2),
    oldOffset: fc.option(f32s(n, -1.5, 1.5), { nil: undefined }),
    sampleWeights: fc.option(f32s(sh.B, 0, 2), { nil: undefined }),
    mode: fc.constantFrom("full", "topk", "sampled") as fc.Arbitrary<Mode>,
    alpha: fc.oneof(fc.constantFrom(0, 0.5, 1), fc.integer({ min: 5, max: 95 }).map((k) => k / 100)),
    topk: fc.integer({ min: 1, max: sh.V }),
    addTail: fc.boolean(),
    isClip: fc.constantFrom(null, 2, 1.1),
    klClip: fc.constantFrom(null, 0.05),
    temperature: fc.constantFrom(1, 0.5, 2),
    entropyCoef: fc.constantFrom(0, 0.05),
    weight: fc.constantFrom(1, 1, 0.5, 0),
    aggMode: fc.constantFrom("token-mean", "seq-mean") as fc.Arbitrary<"token-mean" | "seq-mean">
  })
})

type Case = typeof sdpoCase extends fc.Arbitrary<infer T> ? T : never

const build = (c: Case): { batch: SdpoBatch; options: SdpoOptions; ref: RefSdpo } => {
  const lp = targetLogp(c.x, c.sh, c.targets)
  const oldLogp = c.oldOffset === undefined ? undefined : lp.map((v, i) => v + c.oldOffset![i]!)
  const alpha = c.mode === "sampled" ? 1 : c.alpha
  const batch: SdpoBatch = {
    targets: c.targets,
    responseMask: c.mask,
    teacherLogp: c.teacher,
    teacherMask: c.teacherMask,
    advantages: c.adv,
    ...(oldLogp === undefined ? {} : { oldLogp }),
    ...(c.sampleWeights === undefined ? {} : { sampleWeights: c.sampleWeights })
  }
  const options: SdpoOptions = {
    alpha,
    fullLogitDistillation: c.mode !== "sampled",
    distillationTopk: c.mode === "topk" ? c.topk : null,
    distillationAddTail: c.addTail,
    isClip: c.isClip,
    distillationKlClip: c.klClip,
    teacherTemperature: c.temperature,
    entropyCoef: c.entropyCoef,
    distillationWeight: c.weight,
    lossAggMode: c.aggMode,
    grpo: { lossType: "bnpo" }
  }
  const common = {
    targets: c.targets,
    responseMask: c.mask,
    ...(oldLogp === undefined ? {} : { oldLogp }),
    ...(c.sampleWeights === undefined ? {} : { sampleWeights: c.sampleWeights })
  }
  const ref: RefSdpo = {
    ...common,
    teacherLogp: c.teacher,
    teacherMask: c.teacherMask,
    alpha,
    full: c.mode !== "sampled",
    topk: c.mode === "topk" ? c.topk : null,
    addTail: c.addTail,
    isClip: c.isClip,
    klClip: c.klClip,
    temperature: c.temperature,
    entropyCoef: c.entropyCoef,
    weight: c.weight,
    aggMode: c.aggMode,
    grpo: {
      ...common,
      advantages: c.adv,
      epsilon: 0.2,
      epsilonHigh: null,
      delta: null,
      beta: 0,
      lossType: "bnpo",
      sequence: false,
      useBiasCorrectionKl: false,
      clipRatioC: null,
      entropyCoef: 0
    }
  }
  return { batch, options, ref }
}

/** Dense log-probs of logits [B*R*V], float32. */
const logProbsOf = (x: Float32Array, V: number): Float32Array => {
  const out = new Float32Array(x.length)
  for (let i = 0; i < x.length; i += V) out.set(logSoftmax(Array.from(x.subarray(i, i + V))), i)
  return out
}

describe("sdpoLoss", () => {
  fcTest.prop([sdpoCase], { seed: 21, numRuns: 60 })("value and gradient match the plain-loop reference", (c) => {
    const { batch, options, ref } = build(c)
    const got = lossAndGrad(c.sh, c.x, (l) => sdpoLoss(l, batch, options))
    const x0 = Array.from(c.x)
    expectClose(got.value, refSdpo(x0, x0, c.sh, ref), 2e-5, 2e-4, "loss")
    const g = numericGrad((x) => refSdpo(x, x0, c.sh, ref), x0)
    expectAllClose(got.grad, g, 5e-5, 3e-3, "grad")
  })

  it("gradient matches float32 central differences (full and top-k)", () => {
    const arb = sdpoCase.filter((c) => c.mode !== "sampled") // the sampled-token surrogate is not its own gradient's integral
    fc.assert(
      fc.property(arb, fc.nat(1000), (c, pickSeed) => {
        // IS weights, on-policy old log-probs and the top-k support are detached: keep them constant so differences see one function
        const oldOffset = c.oldOffset ?? new Float32Array(c.sh.B * c.sh.R).fill(0.5) // the GRPO part's old policy
        const { batch, options } = build({ ...c, isClip: null, oldOffset })
        const f = (l: tf.Tensor3D) => sdpoLoss(l, batch, options)
        const got = lossAndGrad(c.sh, c.x, f)
        for (let j = 0; j < 3; j++) {
          const i = (pickSeed + 5 * j) % c.x.length
          const row = Math.floor(i / c.sh.V) * c.sh.V
          const h = 1e-2
          if (c.mode === "topk") {
            // skip coordinates whose +-h move could reorder the student's top-k
            const vals = Array.from(c.x.subarray(row, row + c.sh.V))
            if (vals.some((v, k) => k !== i - row && Math.abs(v - c.x[i]!) <= 2 * h)) continue
          }
          expectClose(got.grad[i]!, centralDiff(c.sh, c.x, f, i, h), 2e-3, 3e-2, `coord ${i}`)
        }
      }),
      { seed: 22, numRuns: 20 }
    )
  })

  it("topkIndices: largest first, ties to the lower token id", () => {
    const vals = Float32Array.from([0, 2, 1, 2, -1, 1])
    expect(Array.from(topkIndices(vals, { B: 1, R: 1, V: 6 }, 4))).toEqual([1, 3, 2, 5])
  })

  const sh: Shape = { B: 3, R: 4, V: 6 }
  const x = Float32Array.from({ length: 72 }, (_, i) => 1.5 * Math.sin(1.7 * i + 0.3))
  const targets = Int32Array.from({ length: 12 }, (_, i) => (3 * i) % 6)
  const responseMask = Float32Array.from({ length: 12 }, (_, i) => (i % 4 === 3 ? 0 : 1))
  const teacher = Float32Array.from({ length: 72 }, (_, i) => Math.cos(0.9 * i))
  const base: SdpoBatch = { targets, responseMask, teacherLogp: teacher, teacherMask: Float32Array.from([1, 1, 1]) }

  it("teacher == student: zero loss and zero gradient, every support and alpha", () => {
    const same = { ...base, teacherLogp: logProbsOf(x, 6) }
    for (const alpha of [0, 0.3, 0.5, 1]) {
      for (const o of [{ distillationTopk: null }, { distillationTopk: 3 }, { distillationTopk: 3, distillationAddTail: false }]) {
        const got = lossAndGrad(sh, x, (l) => sdpoLoss(l, same, { alpha, ...o }))
        expectClose(got.value, 0, 2e-6, 0, `loss alpha ${alpha}`)
        got.grad.forEach((g) => expectClose(g, 0, 2e-6, 0, `grad alpha ${alpha}`))
      }
    }
    const sampled = lossAndGrad(sh, x, (l) => sdpoLoss(l, same, { alpha: 1, fullLogitDistillation: false }))
    sampled.grad.forEach((g) => expectClose(g, 0, 2e-6, 0, "sampled grad"))
  })

  it("alpha = 0 is forward KL and alpha = 1 is reverse KL over the vocabulary", () => {
    const s = logProbsOf(x, 6)
    const t = logProbsOf(teacher, 6)
    let fwd = 0
    let rev = 0
    let n = 0
    for (let i = 0; i < 12; i++) {
      if (responseMask[i] === 0) continue
      n++
      for (let v = 0; v < 6; v++) {
        const [ls, lt] = [s[i * 6 + v]!, t[i * 6 + v]!]
        fwd += Math.exp(lt) * (lt - ls)
        rev += Math.exp(ls) * (ls - lt)
      }
    }
    const at = (alpha: number) => lossAndGrad(sh, x, (l) => sdpoLoss(l, base, { alpha, distillationTopk: null })).value
    expectClose(at(0), fwd / n, 1e-6, 1e-5, "forward")
    expectClose(at(1), rev / n, 1e-6, 1e-5, "reverse")
    // the generalized JSD lies in between and is bounded by log 2 at alpha 0.5
    expect(at(0.5)).toBeGreaterThan(0)
    expect(at(0.5)).toBeLessThanOrEqual(Math.log(2))
  })

  it("an all-masked batch gives loss 0, still attached to the graph (zero gradient)", () => {
    const none = { ...base, teacherMask: new Float32Array(3) }
    for (const o of [{}, { fullLogitDistillation: false, alpha: 1 }, { lossAggMode: "seq-mean" as const }]) {
      const got = lossAndGrad(sh, x, (l) => sdpoLoss(l, none, o))
      expect(got.value).toBe(0)
      expect(got.grad.every((g) => g === 0)).toBe(true)
    }
    const d = sdpoDiagnostics(tf.tensor3d(x, [3, 4, 6]), none)
    expect(d.emptyTargetBatch).toBe(true)
    expect(d.teacherFraction).toBe(0)
  })

  it("distillationWeight 0 is the GRPO loss; 1 ignores advantages", () => {
    const adv = Float32Array.from([1, -0.5, 0.25])
    const g = lossAndGrad(sh, x, (l) => grpoLoss(l, { targets, responseMask, advantages: adv }, { lossType: "bnpo" }))
    const s = lossAndGrad(sh, x, (l) => sdpoLoss(l, { ...base, advantages: adv }, { distillationWeight: 0, grpo: { lossType: "bnpo" } }))
    expectClose(s.value, g.value, 1e-7, 1e-6)
    expectAllClose(s.grad, g.grad, 1e-7, 1e-5)
    expect(() => sdpoLoss(tf.tensor3d(x, [3, 4, 6]), base, { distillationWeight: 0.5 })).toThrow(NumericInputError)
  })

  it("teacher temperature softens the teacher; logits and log-probs give the same teacher", () => {
    const t = tf.tensor3d(x, [3, 4, 6])
    const sharp = sdpoDiagnostics(t, base, { teacherTemperature: 0.5 })
    const plain = sdpoDiagnostics(t, base)
    const soft = sdpoDiagnostics(t, base, { teacherTemperature: 3 })
    expect(sharp.teacherEntropy).toBeLessThan(plain.teacherEntropy)
    expect(plain.teacherEntropy).toBeLessThan(soft.teacherEntropy)
    const fromLogp = sdpoLoss(t, { ...base, teacherLogp: logProbsOf(teacher, 6) }, { teacherTemperature: 2 })
    const fromLogits = sdpoLoss(t, { ...base, teacherLogp: teacher.map((v) => v + 3) }, { teacherTemperature: 2 })
    expectClose(fromLogp.dataSync()[0]!, fromLogits.dataSync()[0]!, 1e-6, 1e-5)
    tf.dispose([t, fromLogp, fromLogits])
  })

  it("the entropy term raises the student's entropy along its gradient", () => {
    const same = { ...base, teacherLogp: logProbsOf(x, 6) }
    const got = lossAndGrad(sh, x, (l) => sdpoLoss(l, same, { entropyCoef: 1 }))
    const stepped = x.map((v, i) => v - 0.1 * got.grad[i]!)
    const ent = (y: Float32Array) => sdpoDiagnostics(tf.tensor3d(y, [3, 4, 6]), same).studentEntropy
    expect(ent(stepped)).toBeGreaterThan(ent(x))
  })

  it("rejects bad options and shapes with a tagged error", () => {
    const t = tf.tensor3d(x, [3, 4, 6])
    const bad: Array<[SdpoBatch, SdpoOptions]> = [
      [base, { alpha: 1.5 }],
      [base, { fullLogitDistillation: false, alpha: 0.5 }],
      [base, { distillationTopk: 0 }],
      [base, { teacherTemperature: 0 }],
      [base, { distillationWeight: 2 }],
      [base, { isClip: -1 }],
      [{ ...base, teacherLogp: new Float32Array(10) }, {}],
      [{ ...base, teacherMask: Float32Array.from([1, 0.5, 1]) }, {}],
      [{ ...base, teacherLogp: teacher.map((v, i) => (i === 3 ? Number.NaN : v)) }, {}]
    ]
    for (const [b, o] of bad) {
      try {
        sdpoLoss(t, b, o)
        expect.fail("should throw")
      } catch (e) {
        expect((e as NumericInputError)._tag).toBe("NumericInputError")
      }
    }
    t.dispose()
  })

  it("leaks no tensors over many calls", () => {
    const run = () => {
      for (const o of [{}, { distillationTopk: 2 }, { fullLogitDistillation: false, alpha: 1 }, { distillationWeight: 0.5, entropyCoef: 0.1 }]) {
        lossAndGrad(sh, x, (l) => sdpoLoss(l, { ...base, advantages: Float32Array.from([1, 0, -1]) }, o))
      }
      const t = tf.tensor3d(x, [3, 4, 6])
      sdpoDiagnostics(t, { ...base, advantages: Float32Array.from([1, 0, -1]) }, { distillationWeight: 0.5, distillationTopk: 3 })
      t.dispose()
    }
    run()
    const before = tf.memory().numTensors
    for (let i = 0; i < 10; i++) run()
    expect(tf.memory().numTensors).toBe(before)
  })
})
