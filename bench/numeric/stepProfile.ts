/**
 * Where a train step's time goes, by tfjs kernel (a diagnostic, not part of `npm run bench`): every
 * kernel registered for the wasm backend is wrapped in a timer (calls and milliseconds per step), and
 * what is left of the step's wall time (our own kernels, tensor creation, tape and engine overhead)
 * is printed as outside them; the step's CPU time too (steadier than wall time on a shared machine),
 * and the forward and backward pass alone. The policy bench's shapes (batch 64 x 48), 1 thread. For
 * our kernels' share, run it under `node --cpu-prof`.
 *
 *   node_modules/.bin/node bench/numeric/stepProfile.ts [--fma] [--d 64|256] [--steps N]
 */
import { Rng } from "../../src/core/Rng.ts"
import { type ModelConfig, createAdamState, initBackend, initParams, nextTokenLoss, trainStep } from "../../src/numeric/index.ts"
import { tf } from "../../src/numeric/tf.ts"

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name)
  return i > 0 ? Number(process.argv[i + 1]) : dflt
}
const fma = process.argv.includes("--fma")
const d = arg("--d", 64)
const STEPS = arg("--steps", 5)
const [B, T] = [64, 48]

await initBackend("wasm", { threads: 1, fma })

interface Stat {
  calls: number
  ms: number
}
const stats = new Map<string, Stat>()
let timing = false
for (const k of tf.getKernelsForBackend("wasm")) {
  const inner = k.kernelFunc
  tf.unregisterKernel(k.kernelName, "wasm")
  tf.registerKernel({
    ...k,
    kernelFunc: (args) => {
      if (!timing) return inner(args)
      const t0 = performance.now()
      const out = inner(args)
      const s = stats.get(k.kernelName) ?? { calls: 0, ms: 0 }
      s.calls++
      s.ms += performance.now() - t0
      stats.set(k.kernelName, s)
      return out
    }
  })
}

const cfg: ModelConfig = { vocabSize: 48, contextLength: 48, dModel: d, nLayers: 2, nHeads: 4, dMlp: 4 * d }
const params = initParams(cfg, Rng.root(1))
const st = createAdamState(params)
const r = Rng.root(2)
const tokens = Int32Array.from({ length: B * T }, () => r.below(cfg.vocabSize))
const weights = new Float32Array(B * T).fill(1)
const step = () => trainStep(params, st, () => nextTokenLoss(params, cfg, tokens, weights, B, T), { schedule: { lr: 1e-3, warmupSteps: 0, decay: "constant" }, clipNorm: 1 })
step()
step()
// CPU time as well as wall time: on a shared, loaded machine a step's wall time varies 2-3x
const cpuMs = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}
const walls: Array<number> = []
const cpus: Array<number> = []
timing = true
for (let i = 0; i < STEPS; i++) {
  const t0 = performance.now()
  const c0 = cpuMs()
  step()
  cpus.push(cpuMs() - c0)
  walls.push(performance.now() - t0)
}
timing = false
// the gradient alone (forward and backward: no norm, clipping or AdamW), for the optimiser's share
const gradWalls: Array<number> = []
for (let i = 0; i < STEPS; i++) {
  const t0 = performance.now()
  tf.tidy(() => void tf.variableGrads(() => nextTokenLoss(params, cfg, tokens, weights, B, T), Object.values(params)).value.dataSync())
  gradWalls.push(performance.now() - t0)
}
const mean = (xs: Array<number>): number => xs.reduce((a, b) => a + b, 0) / xs.length
const sorted = (xs: Array<number>): Array<number> => [...xs].sort((a, b) => a - b)
const rows = [...stats].map(([name, s]) => ({ name, calls: s.calls / STEPS, ms: s.ms / STEPS })).sort((a, b) => b.ms - a.ms)
const inKernels = rows.reduce((a, x) => a + x.ms, 0)
const calls = rows.reduce((a, x) => a + x.calls, 0)
const wall = mean(walls)
const mode = `${fma ? "fma" : "exact"} d=${d}`
console.log(`${mode}: step CPU time median ${sorted(cpus)[STEPS >> 1]!.toFixed(1)} ms, min ${sorted(cpus)[0]!.toFixed(1)}; wall min ${sorted(walls)[0]!.toFixed(1)} ms`)
console.log(`${mode}: step wall ${wall.toFixed(1)} ms (mean of ${STEPS}: ${walls.map((w) => w.toFixed(0)).join(" ")}), ${calls} tfjs kernel calls, ${inKernels.toFixed(1)} ms in them, ${(wall - inKernels).toFixed(1)} ms outside them`)
console.log(`${mode}: forward + backward alone ${mean(gradWalls).toFixed(1)} ms wall (mean), the rest of the step (norm, clipping, AdamW) ${(wall - mean(gradWalls)).toFixed(1)} ms`)
for (const x of rows) console.log(`  ${x.name.padEnd(22)}${String(x.calls).padStart(6)} calls ${x.ms.toFixed(2).padStart(8)} ms`)
