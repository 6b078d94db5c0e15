/**
 * Resident memory of one run (issue #17: a default run should hold <= 400 MB, so a machine or a cluster
 * runner holds several). One process: the floor first (Node, tfjs and the wasm backend initialised, no
 * run), then a default-preset PMD run with its full-split evaluations, in-process, sampling where the
 * bytes sit after every metrics row. Peak RSS only grows within a process, so the run's peak is read
 * after the floor. Prints the peak against the floor and against the 400 MB target.
 *
 * With a micro-batch count the update runs in that many micro-batches (`optim.microBatches`: the update's
 * activations, which grow the wasm heap, shrink with it). With `recompute` the blocks' activations are
 * recomputed in the backward pass instead of kept (`optim.recompute`: the same bits).
 *
 *   node bench/orchestrator/memory.bench.ts [steps=6] [microBatches=1] [recompute]
 */
import { Effect } from "effect"
import { existsSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { resolveConfig } from "../../src/config/resolve.ts"
import { baseDir } from "../../src/experiments/base.ts"
import { runTraining } from "../../src/experiments/run.ts"
import { prepareNewRun } from "../../src/experiments/runDir.ts"
import { initBackend, numericMemory, type NumericMemory } from "../../src/numeric/index.ts"

const TARGET_MB = 400
const steps = Number(process.argv[2] ?? 6)
const microBatches = Number(process.argv[3] ?? 1)
const recompute = process.argv[4] === "recompute"
const MB = (bytes: number) => bytes / 2 ** 20
const peakMB = () => process.resourceUsage().maxRSS / 1024

await initBackend("wasm")
const floor = peakMB()

const base = existsSync(join(baseDir("code"), "model.json")) ? "warmup" : "scratch"
const cfg = resolveConfig({ preset: "default", sets: [`steps=${steps}`, `eval.every=${Math.max(1, Math.floor(steps / 2))}`, `checkpointEvery=${steps}`, `base=${base}`, ...(microBatches > 1 ? [`optim.microBatches=${microBatches}`] : []), ...(recompute ? ["optim.recompute=true"] : [])], overrides: { method: "pmd" } })
const dir = join(mkdtempSync(join(tmpdir(), "pmdsim-bench-")), "run")
prepareNewRun(dir, false)
let largest: { numeric: NumericMemory; heap: number; external: number } = { numeric: numericMemory(), heap: 0, external: 0 }
await Effect.runPromise(runTraining({
  cfg, dir, resume: false, actors: true,
  onRow: () => {
    const numeric = numericMemory()
    const m = process.memoryUsage()
    if (numeric.tfjsHeapBytes + numeric.kernelBytes >= largest.numeric.tfjsHeapBytes + largest.numeric.kernelBytes) largest = { numeric, heap: m.heapUsed, external: m.external }
  }
}))
const peak = peakMB()

console.log(`memory bench: default preset, pmd, ${steps} steps, optim.microBatches ${microBatches}${recompute ? ", optim.recompute" : ""}, evaluation on the full splits (${base} base), one process`)
console.log("| what | MB | ratio |")
console.log("|---|---|---|")
console.log(`| floor: Node + tfjs wasm backend, no run | ${floor.toFixed(0)} | 1.00 |`)
console.log(`| a default run, peak resident | ${peak.toFixed(0)} | ${(peak / floor).toFixed(2)} x floor, ${(peak / TARGET_MB).toFixed(2)} x the ${TARGET_MB} MB target |`)
console.log(`\nwhere the bytes sat at the largest wasm footprint seen:`)
console.log(`  tfjs wasm heap   ${MB(largest.numeric.tfjsHeapBytes).toFixed(0).padStart(6)} MB (live tensors ${MB(largest.numeric.tensorBytes).toFixed(1)} MB)`)
console.log(`  our wasm kernels ${MB(largest.numeric.kernelBytes).toFixed(0).padStart(6)} MB`)
console.log(`  V8 heap used     ${MB(largest.heap).toFixed(0).padStart(6)} MB`)
console.log(`  V8 external      ${MB(largest.external).toFixed(0).padStart(6)} MB (includes the wasm memories)`)
console.log(`resident memory per run: ${peak <= TARGET_MB ? "within" : "over"} the ${TARGET_MB} MB target`)
