/**
 * Wall time per training step, split by stage, in two comparisons, each measured in one process,
 * alternating, best of 2 each, and each checking that both sides reach the same final state hash:
 *
 * 1. actor overhead: the full actor pipeline (policy, teacher, memory, reflector, consolidator and
 *    verifier actors, one worker thread) vs the same actors' behaviors run in place on the caller's fiber
 *    (directPorts: one pipeline declaration, two ways to start it; actors/orchestrator/Pipeline.ts).
 *    Target: at most 5% overhead.
 * 2. execution (issue #17): `async.execution` inline vs pipelined (rollout workers share sampling, teacher
 *    scoring and entropy, and sample the next step during the update), rollouts one update behind
 *    (`async.staleness` 1, `lagSchedule` fixed), default preset. Prints `pipelined speedup: N.NNx`.
 *
 *    Both sides update in `optim.microBatches` micro-batches (default 2: the workers take a share of the
 *    update; 1 = one pass, which they cannot share), so both compute the same bits. A third side, inline
 *    with one update pass (the default preset's update: other bits, and no per-pass costs twice), prints
 *    `pipelined speedup against inline in one update pass: N.NNx`.
 *
 *    Two threads on this machine are not two of one: `two-thread capacity` times the same job (the teacher's
 *    scoring of 64 rows) on one rollout worker alone and on two at once, and prints how much more work two
 *    threads finish than one (2.00x on independent cores), before and after the runs. The one-pass ceiling
 *    divides the work that can be shared by the larger of the two, not by 2.
 *
 *   node bench/orchestrator/pipeline.bench.ts [steps=6] [method=pmd] [actors|execution|capacity|all] [rolloutWorkers=1] [microBatches=2]
 */
import { Effect } from "effect"
import { existsSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { resolveConfig } from "../../src/config/resolve.ts"
import type { TrainRow } from "../../src/protocol/metrics.ts"
import { runTraining } from "../../src/experiments/run.ts"
import { prepareNewRun } from "../../src/experiments/runDir.ts"
import { baseDir } from "../../src/experiments/base.ts"
import { modelConfig } from "../../src/experiments/setup.ts"
import { Rng } from "../../src/core/Rng.ts"
import { initBackend } from "../../src/numeric/index.ts"
import { PolicyModel } from "../../actors/policy/PolicyModel.ts"
import { RolloutPool } from "../../actors/policy/rolloutPool.ts"

const steps = Number(process.argv[2] ?? 6)
const method = process.argv[3] ?? "pmd"
const section = process.argv[4] ?? "all"
const rolloutWorkers = Number(process.argv[5] ?? 1)
const microBatches = Number(process.argv[6] ?? 2)
const base = existsSync(join(baseDir("code"), "model.json")) ? "warmup" : "scratch"
const configOf = (sets: ReadonlyArray<string>) =>
  resolveConfig({ preset: "default", sets: [`steps=${steps}`, `eval.every=${steps + 1}`, `checkpointEvery=${steps + 1}`, `base=${base}`, "workers=1", "eval.problems=64", ...sets], overrides: { method } })

type Run = { ms: number; rows: Array<TrainRow>; hash: string }
const once = async (cfg: ReturnType<typeof configOf>, actors: boolean): Promise<Run> => {
  const dir = join(mkdtempSync(join(tmpdir(), "pmdsim-bench-")), "run")
  prepareNewRun(dir, false)
  const rows: Array<TrainRow> = []
  const t0 = performance.now()
  const s = await Effect.runPromise(runTraining({ cfg, dir, resume: false, actors, onRow: (r) => { if (r.kind === "train") rows.push(r) } }))
  return { ms: performance.now() - t0, rows, hash: s.finalStateHash }
}

const best = (xs: ReadonlyArray<{ ms: number }>) => Math.min(...xs.map((x) => x.ms))
/** Wall time of the training steps alone (each train row's rollouts over its rollouts per second): no start-up, no evaluation. */
const rolloutsPerStep = configOf([]).batchProblems * configOf([]).groupSize
const stepsMs = (r: Run) => r.rows.reduce((a, row) => a + (rolloutsPerStep * 1000) / row.rolloutsPerSec, 0)
const bestSteps = (xs: ReadonlyArray<Run>) => Math.min(...xs.map(stepsMs))
const sameHash = (xs: ReadonlyArray<Run>) => new Set(xs.map((r) => r.hash)).size === 1

/** Runs the sides alternately, two runs each (the tables take the best). */
const compare = async (...sides: ReadonlyArray<() => Promise<Run>>): Promise<Array<Array<Run>>> => {
  const runs = sides.map(() => [] as Array<Run>)
  for (let i = 0; i < 2; i++) for (const [k, side] of sides.entries()) runs[k]!.push(await side())
  return runs
}

/** Mean wait per step of each stage, as the step sees it. */
const stageMeans = (r: Run): Map<string, number> => {
  const stages = new Map<string, number>()
  for (const row of r.rows) for (const [k, v] of Object.entries(row.stageMs)) stages.set(k, (stages.get(k) ?? 0) + v / steps)
  return stages
}

/**
 * How much more work two threads finish than one on this machine: the teacher's scoring of 64 rows
 * (prompt 40 and response 24 tokens, the default model) timed on one rollout worker alone, then on two
 * at once, alternating, best of 8 rounds each. 2.00x on two independent cores; less where they share
 * caches, memory bandwidth or a physical core.
 */
const twoThreadCapacity = async (): Promise<number> => {
  const cfg = configOf([])
  await initBackend(cfg.backend, { threads: 1 })
  const model = new PolicyModel(cfg, modelConfig(cfg), null)
  const source = model.studentSource()
  const rng = Rng.root(17).fork("capacity")
  const tokens = (n: number) => Array.from({ length: n }, () => rng.int(4, model.model.vocabSize - 1))
  const contexts = Array.from({ length: 64 }, () => tokens(40))
  const responses = Array.from({ length: 64 }, () => tokens(24))
  const pool = await RolloutPool.start(2, { cfg, model: model.model, backend: cfg.backend, delayMaxMs: 0, delaySeed: 0 }, 2)
  try {
    const round = async (workers: ReadonlyArray<number>) => {
      const t0 = performance.now()
      await Promise.all(workers.map((w) => pool.score(w, source, contexts, responses)))
      return performance.now() - t0
    }
    await round([0, 1]) // weights loaded, kernels warm
    const alone: Array<number> = []
    const both: Array<number> = []
    for (let i = 0; i < 8; i++) {
      alone.push(await round([0]))
      both.push(await round([0, 1]))
    }
    return (2 * Math.min(...alone)) / Math.min(...both)
  } finally {
    await pool.close()
    model.dispose()
  }
}

/**
 * What two threads can at best make of the one-pass inline step: the update runs whole on the learner,
 * the teacher's scoring and the entropy need its weights and can at best be shared by both threads, and
 * no step is shorter than its work over the two threads' capacity (twoThreadCapacity). The rest
 * (sampling, verification, memory) is assumed hidden. Measured on the faster of the one-pass runs.
 */
const onePassCeiling = (r: Run, capacity: number): { readonly work: number; readonly floor: number } => {
  const m = stageMeans(r)
  const at = (k: string) => m.get(k) ?? 0
  const work = [...m.values()].reduce((a, b) => a + b, 0)
  return { work, floor: Math.max(at("update") + (at("teacher") + at("entropy")) / capacity, work / capacity) }
}

const printCapacity = async (): Promise<number> => {
  const capacity = await twoThreadCapacity()
  console.log(`two-thread capacity: ${capacity.toFixed(2)}x one thread's work (the teacher's scoring, one rollout worker alone vs two at once)`)
  return capacity
}

const stageTable = (title: string, r: Run) => {
  const stages = stageMeans(r)
  console.log(`\nstage time per step (${title}, first run; a stage's time is its wait as the step sees it):`)
  for (const [k, v] of [...stages.entries()].sort((x, y) => y[1] - x[1])) console.log(`  ${k.padEnd(8)} ${v.toFixed(0).padStart(6)} ms`)
}

if (section === "all" || section === "actors") {
  const cfg = configOf([])
  const [direct, actors] = await compare(() => once(cfg, false), () => once(cfg, true)) as [Array<Run>, Array<Run>]
  const d = best(direct)
  const a = best(actors)
  console.log(`pipeline bench: ${method}, ${steps} steps, base=${base}, default preset (8 problems x 8 rollouts), 1 verifier worker`)
  console.log(`| mode | run wall (best of 2) | per step | ratio vs plain loop |`)
  console.log(`|---|---|---|---|`)
  console.log(`| plain sequential loop | ${(d / 1000).toFixed(2)} s | ${(d / steps).toFixed(0)} ms | 1.000 |`)
  console.log(`| actor pipeline | ${(a / 1000).toFixed(2)} s | ${(a / steps).toFixed(0)} ms | ${(a / d).toFixed(3)} (overhead ${((a / d - 1) * 100).toFixed(1)}%) |`)
  console.log(`same final state hash in every run: ${sameHash([...direct, ...actors])}`)
  stageTable("actor pipeline", actors[0]!)
}

if (section === "all" || section === "execution") {
  const stale = ["async.staleness=1", "async.lagSchedule=fixed", `optim.microBatches=${microBatches}`]
  const inline = configOf(stale)
  const pipelined = configOf([...stale, "async.execution=pipelined", `async.rolloutWorkers=${rolloutWorkers}`])
  // the default preset's inline update is one pass: with micro-batches its bits differ (the gradients'
  // sum order), and so does its speed (each pass has its fixed costs), so it is measured too
  const onePass = configOf(["async.staleness=1", "async.lagSchedule=fixed"])
  const capacityBefore = await twoThreadCapacity()
  const [ins, pipes, ones] = await compare(() => once(inline, true), () => once(pipelined, true), () => once(onePass, true)) as [Array<Run>, Array<Run>, Array<Run>]
  const i = bestSteps(ins)
  const p = bestSteps(pipes)
  const o = bestSteps(ones)
  console.log(`\nexecution bench: ${method}, ${steps} steps, base=${base}, default preset, async.staleness 1 (fixed), optim.microBatches ${microBatches}, ${rolloutWorkers} rollout worker(s), 1 verifier worker`)
  console.log(`| execution | training steps (best of 2) | steps/s | ratio | whole run, with start-up and 2 evaluations |`)
  console.log(`|---|---|---|---|---|`)
  console.log(`| inline | ${(i / 1000).toFixed(2)} s | ${(steps / (i / 1000)).toFixed(3)} | 1.000 | ${(best(ins) / 1000).toFixed(2)} s |`)
  console.log(`| pipelined | ${(p / 1000).toFixed(2)} s | ${(steps / (p / 1000)).toFixed(3)} | ${(i / p).toFixed(3)} | ${(best(pipes) / 1000).toFixed(2)} s (${(best(ins) / best(pipes)).toFixed(2)}x) |`)
  console.log(`| inline, one update pass (other bits) | ${(o / 1000).toFixed(2)} s | ${(steps / (o / 1000)).toFixed(3)} | ${(i / o).toFixed(3)} | ${(best(ones) / 1000).toFixed(2)} s |`)
  console.log(`same final state hash in every run: ${sameHash([...ins, ...pipes])}`)
  console.log(`pipelined speedup: ${(i / p).toFixed(2)}x`)
  console.log(`pipelined speedup against inline in one update pass: ${(o / p).toFixed(2)}x`)
  // the VM's second core comes and goes: the larger of two measurements, so the ceiling stays an upper bound
  const capacityAfter = await twoThreadCapacity()
  const capacity = Math.max(capacityBefore, capacityAfter)
  console.log(`two-thread capacity: ${capacityBefore.toFixed(2)}x before the runs, ${capacityAfter.toFixed(2)}x after (one thread's work; the teacher's scoring, one rollout worker alone vs two at once)`)
  for (const c of [2, capacity]) {
    const ceiling = onePassCeiling(ones.reduce((a, b) => (stepsMs(b) < stepsMs(a) ? b : a)), c)
    console.log(
      `one-pass ceiling at ${c.toFixed(2)}x: stages ${ceiling.work.toFixed(0)} ms a step inline; the update, then the teacher's scoring and the entropy ` +
        `shared by two threads: at least ${ceiling.floor.toFixed(0)} ms, at most ${(ceiling.work / ceiling.floor).toFixed(2)}x`
    )
  }
  stageTable("inline", ins[0]!)
  stageTable("pipelined", pipes[0]!)
  stageTable("inline, one update pass", ones[0]!)
}

if (section === "capacity") await printCapacity()
