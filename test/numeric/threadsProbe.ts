/**
 * Child process of threads.test.ts: trains the reference-size model (d=64, 2 layers, batch 32 x 48,
 * big enough for XNNPACK to split its matmuls across threads) for a few AdamW steps on the wasm
 * backend with the thread count given as argv[2], then samples with the KV cache, and prints one
 * JSON line with the threads the backend really made and the hashes of weights and samples.
 * argv[3] = "fma" runs in the fma mode (fma.test.ts); anything else or nothing, the exact mode.
 */
import { Rng } from "../../src/core/Rng.ts"
import { hashValue } from "../../src/core/Hash.ts"
import { createAdamState, initBackend, initParams, nextTokenLoss, sample, trainStep, weightsHash } from "../../src/numeric/index.ts"

const info = await initBackend("wasm", { threads: Number(process.argv[2]), fma: process.argv[3] === "fma" })
const cfg = { vocabSize: 48, contextLength: 64, dModel: 64, nLayers: 2, nHeads: 4, dMlp: 256 }
const B = 32
const T = 48
const params = initParams(cfg, Rng.root(7))
const st = createAdamState(params)
for (let s = 0; s < 4; s++) {
  const r = Rng.root(100 + s)
  const tokens = Int32Array.from({ length: B * T }, () => r.below(cfg.vocabSize))
  const weights = new Float32Array(B * T).fill(1)
  trainStep(params, st, () => nextTokenLoss(params, cfg, tokens, weights, B, T), { schedule: { lr: 3e-3, warmupSteps: 0, decay: "constant" }, clipNorm: 1 })
}
const rows = Array.from({ length: 16 }, (_, i) => ({ prompt: [1 + (i % 5), 2, 3 + (i % 7)], rng: Rng.root(9).fork(i) }))
const samples = sample(params, cfg, rows, { temperature: 1, maxNewTokens: 24 }).map((s) => [Array.from(s.tokens), Array.from(s.logProbs)])
console.log(JSON.stringify({ threads: info.threads, weights: weightsHash(params), samples: hashValue(samples) }))
