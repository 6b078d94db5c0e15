/**
 * What `optim.recompute` costs in time: the gradient of a default-model loss at the update's shape
 * (64 rows x 72 tokens), with the blocks' activations kept (the plain tape) and recomputed in the
 * backward pass, alternated in one process so both see the same machine. CPU time (steadier than wall
 * time on a shared machine) and wall time, best of the rounds; the ratio is recompute / plain. What it
 * saves is bench/orchestrator/memory.bench.ts's line with `recompute`.
 *
 *   node_modules/.bin/node bench/numeric/recompute.bench.ts [rounds=5]
 */
import { Rng } from "../../src/core/Rng.ts"
import { forward, initBackend, initParams, type ModelConfig } from "../../src/numeric/index.ts"
import { tf } from "../../src/numeric/tf.ts"

const rounds = Number(process.argv[2] ?? 5)
const model: ModelConfig = { vocabSize: 103, dModel: 64, nLayers: 2, nHeads: 4, dMlp: 256, contextLength: 128 }
const [B, T] = [64, 72]

await initBackend("wasm", { threads: 1 })
const params = initParams(model, Rng.root(1).fork("bench"))
const tokens = tf.tensor2d(Int32Array.from({ length: B * T }, (_, i) => (i * 7) % model.vocabSize), [B, T], "int32")
const weights = tf.range(0, model.vocabSize).div(model.vocabSize)

const once = (recompute: boolean): { cpu: number; wall: number } => {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  const { value, grads } = tf.variableGrads(() => tf.logSoftmax(forward(params, model, tokens, { recompute })).mul(weights).sum() as tf.Scalar)
  value.dataSync()
  for (const g of Object.values(grads)) g.dataSync()
  const wall = performance.now() - t0
  const c = process.cpuUsage(c0)
  value.dispose()
  Object.values(grads).forEach((g) => g.dispose())
  return { cpu: (c.user + c.system) / 1000, wall }
}

once(false)
once(true)
const best = { plain: { cpu: Infinity, wall: Infinity }, recompute: { cpu: Infinity, wall: Infinity } }
for (let r = 0; r < rounds; r++) {
  for (const [key, flag] of [["plain", false], ["recompute", true]] as const) {
    const t = once(flag)
    best[key] = { cpu: Math.min(best[key].cpu, t.cpu), wall: Math.min(best[key].wall, t.wall) }
  }
}
console.log(`recompute bench: gradient of a default-model loss at ${B} x ${T}, 1 thread, best of ${rounds}`)
console.log("| blocks' activations | CPU ms | wall ms |")
console.log("|---|---|---|")
console.log(`| kept (plain tape) | ${best.plain.cpu.toFixed(0)} | ${best.plain.wall.toFixed(0)} |`)
console.log(`| recomputed | ${best.recompute.cpu.toFixed(0)} | ${best.recompute.wall.toFixed(0)} |`)
console.log(`recompute cost: ${(best.recompute.cpu / best.plain.cpu).toFixed(2)}x CPU, ${(best.recompute.wall / best.plain.wall).toFixed(2)}x wall`)
