import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, expect, test } from "vitest"
import { Rng } from "../../src/core/Rng.ts"
import {
  cloneParams,
  createAdamState,
  disposeAdamState,
  disposeParams,
  emaUpdate,
  embedSequences,
  exportAdamState,
  forward,
  getWeights,
  importAdamState,
  initBackend,
  initParams,
  loadCheckpoint,
  nextTokenLoss,
  paramsFromWeights,
  sample,
  sampleNaive,
  saveCheckpoint,
  scoreResponses,
  setWeights,
  trainStep,
  weightsHash
} from "../../src/numeric/index.ts"
import { tf } from "../../src/numeric/tf.ts"
import { tinyCfg, toyBatch } from "./helpers.ts"

const dir = mkdtempSync(join(tmpdir(), "pmdsim-leak-"))
beforeAll(async () => {
  await initBackend("wasm")
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

test("every public function leaves tf.memory().numTensors flat", () => {
  const params = initParams(tinyCfg, Rng.root(1))
  const st = createAdamState(params)
  const { tokens, weights } = toyBatch(tinyCfg, 4, 10, 1)
  const round = (i: number) => {
    trainStep(params, st, () => nextTokenLoss(params, tinyCfg, tokens, weights, 4, 10), { schedule: { lr: 1e-3, warmupSteps: 0, decay: "constant" }, clipNorm: 1 })
    tf.tidy(() => forward(params, tinyCfg, tf.tensor2d(tokens, [4, 10], "int32")).sum().dataSync())
    const rows = [0, 1, 2].map((k) => ({ prompt: [1, 2, 3 + k], rng: Rng.root(i).fork(k) }))
    const s = sample(params, tinyCfg, rows, { temperature: 1, maxNewTokens: 6, stopTokens: [2] })
    sampleNaive(params, tinyCfg, rows, { temperature: 1, maxNewTokens: 3 })
    scoreResponses(params, tinyCfg, [[1, 2], [3]], [s[0]!.tokens, [4, 5]])
    embedSequences(params, tinyCfg, [[1, 2, 3], [4]])
    const c = cloneParams(params)
    emaUpdate(c, params, 0.9)
    setWeights(c, getWeights(params))
    weightsHash(c)
    disposeParams(c)
    const a2 = importAdamState(params, exportAdamState(st))
    disposeAdamState(a2)
    saveCheckpoint(dir, { config: tinyCfg, params, adam: st })
    const ck = loadCheckpoint(dir)
    disposeParams(paramsFromWeights(ck.config, ck.weights))
    const p2 = initParams(tinyCfg, Rng.root(i))
    disposeParams(p2)
  }
  round(0)
  const before = tf.memory().numTensors
  for (let i = 1; i <= 6; i++) round(i)
  expect(tf.memory().numTensors).toBe(before)
  disposeAdamState(st)
  disposeParams(params)
})
