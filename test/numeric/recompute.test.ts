/**
 * `optim.recompute` (src/numeric/model/recompute.ts): the blocks' activations recomputed in the backward
 * pass give the plain tape's gradients bit for bit, keep fewer bytes alive at the peak, leak nothing, and
 * leave tfjs's gradient machinery usable afterwards; a policy updated with it has the same weights.
 */
import { Effect, Exit, Scope } from "effect"
import { createHash } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makePolicy } from "../../actors/policy/index.ts"
import { tinyConfig } from "../../src/config/presets.ts"
import type { RunConfig } from "../../src/config/RunConfig.ts"
import { Rng } from "../../src/core/Rng.ts"
import { Control } from "../../src/domains/control.ts"
import { digitToken, VOCAB_SIZE } from "../../src/domains/vocab.ts"
import { forward, initBackend, initParams, type ModelConfig, type Params } from "../../src/numeric/index.ts"
import { tf } from "../../src/numeric/tf.ts"
import type { UpdateRow } from "../../src/protocol/policy.ts"

const model: ModelConfig = { vocabSize: 37, dModel: 32, nLayers: 3, nHeads: 4, dMlp: 64, contextLength: 32 }
let params: Params
let scope: Scope.Closeable
beforeAll(async () => {
  await initBackend("wasm")
  params = initParams(model, Rng.root(5).fork("recompute"))
  scope = Effect.runSync(Scope.make())
})
afterAll(() => Effect.runSync(Scope.close(scope, Exit.void)))

const B = 6
const T = 24

/** A loss that weighs every logit differently, so that every gradient entry matters. */
const lossOf = (tokens: tf.Tensor2D, recompute: boolean) => (): tf.Scalar =>
  tf.logSoftmax(forward(params, model, tokens, { recompute })).mul(tf.range(0, model.vocabSize).div(model.vocabSize)).sum() as tf.Scalar

const gradientHash = (recompute: boolean, seed: number): string => {
  const tokens = tf.tensor2d(Int32Array.from({ length: B * T }, (_, i) => (i * 7 + seed * 13) % model.vocabSize), [B, T], "int32")
  const { value, grads } = tf.variableGrads(lossOf(tokens, recompute))
  const h = createHash("sha256").update(Buffer.from(value.dataSync().buffer))
  for (const name of Object.keys(grads).sort()) h.update(name).update(Buffer.from(grads[name]!.dataSync().buffer))
  value.dispose()
  Object.values(grads).forEach((g) => g.dispose())
  tokens.dispose()
  return h.digest("hex")
}

describe("recomputed blocks", () => {
  it("give the plain tape's loss and gradients bit for bit, every time, and leak no tensor", () => {
    const before = tf.memory().numTensors
    for (const seed of [1, 2]) {
      const plain = gradientHash(false, seed)
      expect(gradientHash(true, seed)).toBe(plain)
      // and the plain tape still works after a recomputed one
      expect(gradientHash(false, seed)).toBe(plain)
    }
    expect(tf.memory().numTensors).toBe(before)
  })

  it("keep fewer bytes alive at the peak of the gradient computation", async () => {
    const tokens = tf.tensor2d(Int32Array.from({ length: B * T }, (_, i) => (i * 3) % model.vocabSize), [B, T], "int32")
    const peak = async (recompute: boolean) => {
      const info = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(lossOf(tokens, recompute))
        value.dispose()
        Object.values(grads).forEach((g) => g.dispose())
      })
      return info.peakBytes
    }
    const plain = await peak(false)
    const again = await peak(true)
    tokens.dispose()
    expect(again).toBeLessThan(0.8 * plain)
  })

  it("in the fma mode too (its attention reshapes the causal mask, which the backward pass must still have)", async () => {
    await initBackend("wasm", { fma: true })
    try {
      for (const seed of [1, 2]) expect(gradientHash(true, seed)).toBe(gradientHash(false, seed))
    } finally {
      await initBackend("wasm", { fma: false })
    }
  })

  it("update a policy to the same weights (one pass and micro-batches)", () => {
    const rows: Array<UpdateRow> = Array.from({ length: 8 }, (_, i) => {
      const response = [digitToken(i % 10), digitToken((3 * i) % 10), Control.EOS]
      const teacherLogp = i % 3 === 0 ? null : Float32Array.from({ length: response.length * VOCAB_SIZE }, (_, j) => -Math.log(VOCAB_SIZE) + (j % 5) * 0.01)
      return { prompt: [Control.PROB, digitToken(i % 10), Control.ANS], response, oldLogp: response.map(() => -2), reward: i % 2, group: Math.floor(i / 2), teacherLogp }
    })
    const hashAfter = (over: Partial<RunConfig["optim"]>): string => {
      const cfg: RunConfig = { ...tinyConfig, base: "scratch", optim: { ...tinyConfig.optim, ...over } }
      const policy = Effect.runSync(makePolicy(cfg, { model: { vocabSize: VOCAB_SIZE, ...cfg.model }, weights: null }).pipe(Scope.provide(scope)))
      for (let step = 0; step < 3; step++) policy.update(rows, step % 2 === 0 ? "distill" : "grpo", false)
      return policy.hash()
    }
    expect(hashAfter({ recompute: true })).toBe(hashAfter({}))
    expect(hashAfter({ recompute: true, microBatches: 3 })).toBe(hashAfter({ microBatches: 3 }))
  })
})
