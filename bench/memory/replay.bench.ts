/**
 * Trace-driven memory replay vs re-running: one default-preset PMD run (fewer steps than the preset's 60,
 * and every memory level, so that reflection and consolidation are replayed too), timed; then
 * `memory-replay` of it (read the config and rollouts.jsonl, rebuild the memory through the same pipeline
 * without the policy, save the snapshot store, compare with the run's memory), best of 3, in the same
 * process. Target: replay >= 50x faster than the run. Checks the replay reproduces every snapshot id, and
 * reports what rollouts.jsonl costs on disk per step (beside lineage.jsonl and the memory store).
 *
 *   node bench/memory/replay.bench.ts [steps=20] [levels=EIB]
 */
import { Effect } from "effect"
import { existsSync, mkdtempSync, readdirSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { resolveConfig } from "../../src/config/resolve.ts"
import { baseDir } from "../../src/experiments/base.ts"
import { runMemoryReplay } from "../../src/experiments/memoryReplay/index.ts"
import { runTraining } from "../../src/experiments/run.ts"
import { prepareNewRun } from "../../src/experiments/runDir.ts"
import { defaultRegistry } from "../../src/plugins/registry.ts"

const steps = Number(process.argv[2] ?? 20)
const levels = process.argv[3] ?? "EIB"
const base = existsSync(join(baseDir("code"), "model.json")) ? "warmup" : "scratch"
const cfg = resolveConfig({ preset: "default", sets: [`steps=${steps}`, `memory.levels=${levels}`, `base=${base}`] })

const root = mkdtempSync(join(tmpdir(), "pmdsim-bench-replay-"))
const run = join(root, "run")
prepareNewRun(run, false)
let t0 = performance.now()
await Effect.runPromise(runTraining({ cfg, dir: run, resume: false }))
const runMs = performance.now() - t0

const replays: Array<number> = []
let identical = true
let versions = 0
for (let i = 0; i < 3; i++) {
  t0 = performance.now()
  // the same output directory each time: a replay over its own output of the same inputs
  const r = await Effect.runPromise(runMemoryReplay({ run, out: join(root, "replay"), sets: [], registry: defaultRegistry }))
  replays.push(performance.now() - t0)
  identical &&= r.identical
  versions = r.versions.replay
}
const replayMs = Math.min(...replays)

const bytes = (p: string): number => (statSync(p).isDirectory() ? readdirSync(p).reduce((a, n) => a + bytes(join(p, n)), 0) : statSync(p).size)
const kb = (b: number) => `${(b / 1024).toFixed(1)} kB`
console.log(`memory replay bench: default preset, ${steps} steps (the preset has 60), memory.levels=${levels}, base=${base}; ${versions} memory versions`)
console.log(`| what | wall | ratio |`)
console.log(`|---|---|---|`)
console.log(`| re-run the run (policy, teacher, verifier, training, evaluation) | ${(runMs / 1000).toFixed(2)} s | 1 |`)
console.log(`| memory-replay (best of 3: ${replays.map((x) => x.toFixed(0)).join(" / ")} ms) | ${(replayMs / 1000).toFixed(3)} s | ${(runMs / replayMs).toFixed(0)}x faster (target >= 50x: ${runMs / replayMs >= 50 ? "met" : "NOT met"}) |`)
console.log(`replay reproduces every snapshot id: ${identical}`)
console.log(`on disk per step: rollouts.jsonl ${kb(bytes(join(run, "rollouts.jsonl")) / steps)}, lineage.jsonl ${kb(bytes(join(run, "lineage.jsonl")) / steps)}, memory/ ${kb(bytes(join(run, "memory")) / steps)}`)
