/**
 * The update's backward pass that frees as it goes (src/numeric/optim/releasingTape.ts): the plain
 * tape's loss and gradients bit for bit (the policy's SDPO + GRPO loss, with a teacher chain that no
 * variable reaches, and with recomputed blocks), fewer bytes alive at the peak, no tensor leaked, and
 * tfjs's engine left as it was, also when the loss throws.
 */
import { createHash } from "node:crypto"
import { beforeAll, describe, expect, it } from "vitest"
import { Rng } from "../../src/core/Rng.ts"
import { forward, initBackend, initParams, type ModelConfig, type Params } from "../../src/numeric/index.ts"
import { sdpoLoss } from "../../src/numeric/losses/index.ts"
import { releasingTape } from "../../src/numeric/optim/releasingTape.ts"
import { tf } from "../../src/numeric/tf.ts"

const model: ModelConfig = { vocabSize: 37, dModel: 32, nLayers: 2, nHeads: 4, dMlp: 64, contextLength: 32 }
const [B, T, V] = [8, 24, 37]
let params: Params
beforeAll(async () => {
  await initBackend("wasm")
  params = initParams(model, Rng.root(7).fork("releasingTape"))
})

/** The policy's default loss shape: full-logit distillation blended with GRPO, IS-clipped, a softened teacher. */
const lossOf = (seed: number, recompute: boolean) => (): tf.Scalar => {
  const tokens = tf.tensor2d(Int32Array.from({ length: B * T }, (_, i) => (i * 7 + seed * 13) % V), [B, T], "int32")
  const batch = {
    targets: Int32Array.from({ length: B * T }, (_, i) => (i * 5 + seed) % V),
    responseMask: Float32Array.from({ length: B * T }, (_, i) => (i % T >= 8 ? 1 : 0)),
    teacherLogp: Float32Array.from({ length: B * T * V }, (_, i) => -Math.log(V) + ((i * 31 + seed) % 17) / 17),
    teacherMask: Float32Array.from({ length: B }, (_, b) => (b % 3 === 0 ? 0 : 1)),
    oldLogp: Float32Array.from({ length: B * T }, (_, i) => -3.6 + ((i * 11) % 7) / 7),
    advantages: Float32Array.from({ length: B }, (_, b) => (b % 4) - 1.5)
  }
  const options = { alpha: 0.5, distillationTopk: null, isClip: 2, teacherTemperature: 2, entropyCoef: 0.01, distillationWeight: 0.5, grpo: { lossType: "dapo" as const } }
  return sdpoLoss(forward(params, model, tokens, { recompute }), batch, options)
}

const gradientHash = (seed: number, recompute: boolean, releasing: boolean): string => {
  const run = () => tf.variableGrads(lossOf(seed, recompute))
  const { value, grads } = releasing ? releasingTape(run) : run()
  const h = createHash("sha256").update(Buffer.from(value.dataSync().buffer))
  for (const name of Object.keys(grads).sort()) h.update(name).update(Buffer.from(grads[name]!.dataSync().buffer))
  value.dispose()
  Object.values(grads).forEach((g) => g.dispose())
  return h.digest("hex")
}

describe("releasingTape", () => {
  it("gives the plain tape's loss and gradients bit for bit, with or without recomputed blocks, and leaks no tensor", () => {
    const before = tf.memory().numTensors
    for (const recompute of [false, true]) {
      for (const seed of [1, 2]) {
        const plain = gradientHash(seed, recompute, false)
        expect(gradientHash(seed, recompute, true)).toBe(plain)
        // and the plain tape still works after it
        expect(gradientHash(seed, recompute, false)).toBe(plain)
      }
    }
    expect(tf.memory().numTensors).toBe(before)
  })

  it("keeps fewer bytes alive at the peak of the gradient computation", async () => {
    const peak = async (releasing: boolean) => {
      const info = await tf.profile(() => {
        const run = () => tf.variableGrads(lossOf(3, false))
        const { value, grads } = releasing ? releasingTape(run) : run()
        value.dispose()
        Object.values(grads).forEach((g) => g.dispose())
      })
      return info.peakBytes
    }
    const plain = await peak(false)
    expect(await peak(true)).toBeLessThan(0.5 * plain)
  })

  it("puts the engine back when the loss throws", () => {
    const engine = tf.engine() as unknown as { addTapeNode: unknown }
    const addTapeNode = engine.addTapeNode
    expect(() => releasingTape(() => tf.variableGrads(() => { throw new Error("boom") }))).toThrow("boom")
    expect(engine.addTapeNode).toBe(addTapeNode)
    expect(gradientHash(1, false, false)).toBe(gradientHash(1, false, true))
  })
})
