import { fc, test as fcTest } from "@fast-check/vitest"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { Rng } from "../../src/core/Rng.ts"
import {
  type AdamState,
  type Params,
  type TrainOptions,
  createAdamState,
  disposeAdamState,
  disposeParams,
  importAdamState,
  initBackend,
  initParams,
  learningRate,
  loadCheckpoint,
  nextTokenLoss,
  paramsFromWeights,
  saveCheckpoint,
  trainStep,
  weightsHash
} from "../../src/numeric/index.ts"
import { tf } from "../../src/numeric/tf.ts"
import { tinyCfg, toyBatch } from "./helpers.ts"

const dir = mkdtempSync(join(tmpdir(), "pmdsim-train-"))
beforeAll(async () => {
  await initBackend("wasm")
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const opts: TrainOptions = {
  schedule: { lr: 1e-2, warmupSteps: 3, decay: "cosine", totalSteps: 40, minLr: 1e-3 },
  adam: { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.01 },
  clipNorm: 1
}
const B = 8
const T = 12

/** Step s uses its own seeded batch, so a resumed run sees the same data. */
const runSteps = (params: Params, st: AdamState, from: number, to: number): Array<number> => {
  const losses: Array<number> = []
  for (let s = from; s < to; s++) {
    const { tokens, weights } = toyBatch(tinyCfg, B, T, 100 + s)
    losses.push(trainStep(params, st, () => nextTokenLoss(params, tinyCfg, tokens, weights, B, T), opts).loss)
  }
  return losses
}

describe("trainStep", () => {
  test("loss goes down on a learnable toy task", () => {
    const p = initParams(tinyCfg, Rng.root(1))
    const st = createAdamState(p)
    const losses = runSteps(p, st, 0, 30)
    expect(st.step).toBe(30)
    expect(losses[29]!).toBeLessThan(losses[0]! * 0.7)
    disposeAdamState(st)
    disposeParams(p)
  })

  test("two seeded runs give bit-identical weights (wasm)", () => {
    const hashes = [0, 1].map(() => {
      const p = initParams(tinyCfg, Rng.root(7))
      const st = createAdamState(p)
      runSteps(p, st, 0, 6)
      const h = weightsHash(p)
      disposeAdamState(st)
      disposeParams(p)
      return h
    })
    expect(hashes[0]).toBe(hashes[1])
  })

  test("reports the global gradient norm before clipping; a non-finite loss skips the step", () => {
    const p = initParams(tinyCfg, Rng.root(2))
    const st = createAdamState(p)
    const big = trainStep(p, st, () => tf.addN(Object.values(p).map((v) => v.sum())).mul(1000) as tf.Scalar, { ...opts, clipNorm: 0.5 })
    expect(big.gradNorm).toBeGreaterThan(0.5)
    expect(big.skipped).toBe(false)
    const before = weightsHash(p)
    const bad = trainStep(p, st, () => tf.scalar(Number.NaN).add(p["head.b"]!.sum()) as tf.Scalar, opts)
    expect(bad.skipped).toBe(true)
    expect(weightsHash(p)).toBe(before)
    expect(st.step).toBe(1)
    disposeAdamState(st)
    disposeParams(p)
  })

  test("resume: N steps straight == k steps, save, load into fresh variables, N-k steps", () => {
    const N = 8
    const k = 3
    const a = initParams(tinyCfg, Rng.root(11))
    const sa = createAdamState(a)
    runSteps(a, sa, 0, N)
    const straight = weightsHash(a)

    const b = initParams(tinyCfg, Rng.root(11))
    const sb = createAdamState(b)
    runSteps(b, sb, 0, k)
    const rng = Rng.root(5).fork("data")
    rng.float()
    saveCheckpoint(join(dir, "ck"), { config: tinyCfg, params: b, adam: sb, rng: { data: rng.snapshot() }, meta: { step: k } })
    disposeAdamState(sb)
    disposeParams(b)

    const ck = loadCheckpoint(join(dir, "ck"), tinyCfg)
    expect(ck.meta).toEqual({ step: k })
    expect(Rng.restore(ck.rng["data"]!).float()).toBe(rng.float())
    const c = paramsFromWeights(ck.config, ck.weights)
    const sc = importAdamState(c, ck.adam!)
    expect(sc.step).toBe(k)
    runSteps(c, sc, k, N)
    expect(weightsHash(c)).toBe(straight)
    for (const s of [sa, sc]) disposeAdamState(s)
    for (const p of [a, c]) disposeParams(p)
  })
})

describe("learningRate", () => {
  fcTest.prop([fc.double({ min: 1e-5, max: 1, noNaN: true }), fc.nat(50), fc.integer({ min: 1, max: 200 })], { seed: 3 })(
    "warm-up is linear, cosine stays within [minLr, lr] and ends at minLr",
    (lr, warm, extra) => {
      const s = { lr, warmupSteps: warm, decay: "cosine" as const, totalSteps: warm + extra, minLr: lr / 10 }
      for (let t = 1; t <= warm; t++) expect(learningRate(s, t)).toBeCloseTo((lr * t) / warm, 12)
      for (let t = warm + 1; t <= warm + extra; t++) {
        const x = learningRate(s, t)
        expect(x).toBeGreaterThanOrEqual(lr / 10 - 1e-15)
        expect(x).toBeLessThanOrEqual(lr + 1e-15)
      }
      expect(learningRate(s, warm + extra)).toBeCloseTo(lr / 10, 12)
    }
  )
})
