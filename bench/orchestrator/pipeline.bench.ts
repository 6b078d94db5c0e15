/**
 * Wall time per training step, split by stage, and the actor overhead: the full actor pipeline
 * (policy, teacher, memory, reflector, consolidator and verifier actors, one worker thread) vs the same
 * actors' behaviors run in place on the caller's fiber (directPorts: one pipeline declaration, two ways to
 * start it; actors/orchestrator/Pipeline.ts), measured in one process, alternating, best of 2 each.
 * Target: at most 5% overhead. Both modes reach the same final state hash (checked here too).
 *
 *   node bench/orchestrator/pipeline.bench.ts [steps=6] [method=pmd]
 */
import { Effect } from "effect"
import { existsSync } from "node:fs"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { resolveConfig } from "../../src/config/resolve.ts"
import type { TrainRow } from "../../src/protocol/metrics.ts"
import { runTraining } from "../../src/experiments/run.ts"
import { prepareNewRun } from "../../src/experiments/runDir.ts"
import { baseDir } from "../../src/experiments/base.ts"

const steps = Number(process.argv[2] ?? 6)
const method = process.argv[3] ?? "pmd"
const base = existsSync(join(baseDir("code"), "model.json")) ? "warmup" : "scratch"
const cfg = resolveConfig({ preset: "default", sets: [`steps=${steps}`, `eval.every=${steps + 1}`, `checkpointEvery=${steps + 1}`, `base=${base}`, "workers=1", "eval.problems=64"], overrides: { method } })

const once = async (actors: boolean) => {
  const dir = join(mkdtempSync(join(tmpdir(), "pmdsim-bench-")), "run")
  prepareNewRun(dir, false)
  const rows: Array<TrainRow> = []
  const t0 = performance.now()
  const s = await Effect.runPromise(runTraining({ cfg, dir, resume: false, actors, onRow: (r) => { if (r.kind === "train") rows.push(r) } }))
  return { ms: performance.now() - t0, rows, hash: s.finalStateHash }
}

const results: Record<string, Array<Awaited<ReturnType<typeof once>>>> = { direct: [], actors: [] }
for (let i = 0; i < 2; i++) {
  results.direct!.push(await once(false))
  results.actors!.push(await once(true))
}
const best = (xs: ReadonlyArray<{ ms: number }>) => Math.min(...xs.map((x) => x.ms))
const d = best(results.direct!)
const a = best(results.actors!)
const hashes = new Set([...results.direct!, ...results.actors!].map((r) => r.hash))
console.log(`pipeline bench: ${method}, ${steps} steps, base=${base}, default preset (8 problems x 8 rollouts), 1 verifier worker`)
console.log(`| mode | run wall (best of 2) | per step | ratio vs plain loop |`)
console.log(`|---|---|---|---|`)
console.log(`| plain sequential loop | ${(d / 1000).toFixed(2)} s | ${(d / steps).toFixed(0)} ms | 1.000 |`)
console.log(`| actor pipeline | ${(a / 1000).toFixed(2)} s | ${(a / steps).toFixed(0)} ms | ${(a / d).toFixed(3)} (overhead ${((a / d - 1) * 100).toFixed(1)}%) |`)
console.log(`same final state hash in every run: ${hashes.size === 1}`)
const stages = new Map<string, number>()
for (const r of results.actors![0]!.rows) for (const [k, v] of Object.entries(r.stageMs)) stages.set(k, (stages.get(k) ?? 0) + v)
console.log(`\nstage time per step (actor pipeline, first run):`)
for (const [k, v] of [...stages.entries()].sort((x, y) => y[1] - x[1])) console.log(`  ${k.padEnd(8)} ${(v / steps).toFixed(0).padStart(6)} ms`)
