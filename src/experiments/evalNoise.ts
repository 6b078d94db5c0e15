/**
 * Evaluation noise of one checkpoint (`pmdsim eval-noise`): the run's policy and memory at a checkpoint,
 * set up as run.ts restores them for a resume, evaluated once per evaluation seed (`eval.seed`), everything
 * else fixed. The spread across seeds is the noise evaluation itself adds to every reported number
 * (which samples, which prompt renderings, which maj@k tie-breaks, which retrieval draws, and which
 * problems when eval.problems is a subset).
 *
 * Read-only for the run: the config is read without restoring a lost config.json (resume.ts would write
 * it), the memory store is opened and never saved, and the only file written is eval-noise.json.
 */
import { Effect } from "effect"
import { join } from "node:path"
import { resultHash } from "../config/resolve.ts"
import type { RunConfig } from "../config/RunConfig.ts"
import { writeFileDurable } from "../core/durableFile.ts"
import { VersionedMemory } from "../memory/versioned.ts"
import { initBackend } from "../numeric/index.ts"
import { EVAL_NOISE_FILE, EVAL_NOISE_FORMAT, type EvalNoise, type EvalNoiseEntry, noiseSummary } from "../report/load.ts"
import { directPorts, evaluate } from "../../actors/orchestrator/index.ts"
import { applyCheckpoint, restoreCheckpoint, withMemoryOf } from "./restore.ts"
import { readRunConfig } from "./resume.ts"
import { checkpointSteps, RunDirError } from "./runDir.ts"
import { buildParts } from "./setup.ts"

/** Evaluation seed i of `pmdsim eval-noise` is 1000 + i: far from the small run seeds sweeps use. */
export const EVAL_SEED_BASE = 1000
export const DEFAULT_EVAL_NOISE_SEEDS = 5

/** The checkpoint step to evaluate: `requested`, or the newest; RunDirError (exit 2) naming the ones there are (and `purpose`). */
export const pickCheckpoint = (dir: string, requested: number | undefined, purpose = ""): number => {
  const steps = checkpointSteps(dir)
  if (requested === undefined) {
    if (steps.length === 0) throw new RunDirError({ dir, problem: "has no checkpoint to evaluate" })
    return steps[steps.length - 1]!
  }
  if (!steps.includes(requested)) throw new RunDirError({ dir, problem: `has no checkpoint at step ${requested}${purpose} (available: ${steps.join(", ") || "none"})` })
  return requested
}

/**
 * PMD-Transient rebuilds its memory from each step's batch and never stores it (its checkpoints name the
 * empty memory), so the memory it was evaluated with cannot be restored: only memory-free accuracy is measured.
 */
const TRANSIENT_NOTE = "pmd-transient: memory-augmented accuracy is not measured (its memory is rebuilt from each step's batch and never stored, so a checkpoint cannot restore it)"

/**
 * Evaluates the checkpoint at `step` of the run in `dir` once per evaluation seed, in the order given.
 * Each evaluation depends on its seed alone (not on the others or their order). Writes nothing.
 * With `memoryStep`, the policy of `step` reads the memory of checkpoint `memoryStep` instead of its own:
 * memory-augmented figures then measure that reader on that memory (memory-free ones do not read memory).
 */
export const evaluateCheckpoint = (dir: string, cfg: RunConfig, step: number, evalSeeds: ReadonlyArray<number>, memoryStep?: number) =>
  Effect.scoped(Effect.gen(function*() {
    yield* Effect.promise(() => initBackend(cfg.backend, { threads: cfg.threads ?? 1, fma: cfg.numeric?.fma ?? false }))
    // the memory store is opened, pointed at the checkpoint's head (or memoryStep's) in this process only, and never saved
    const own = restoreCheckpoint(dir, cfg, step)
    const restored = memoryStep === undefined || memoryStep === step ? own : withMemoryOf(dir, own, memoryStep)
    const vm = new VersionedMemory(restored.disk.store, restored.branch)
    const parts = buildParts(cfg, vm)
    // the actors run in place; their state is released when this scope closes
    const ports = yield* directPorts(parts.pipeline)
    yield* applyCheckpoint(ports, restored)
    const transient = cfg.method === "pmd-transient"
    const entries: Array<EvalNoiseEntry> = []
    for (const evalSeed of evalSeeds) {
      const evalCfg: RunConfig = { ...cfg, eval: { ...cfg.eval, seed: evalSeed, ...(transient ? { memoryAugmented: false } : {}) } }
      entries.push({ evalSeed, rows: yield* evaluate(ports, evalCfg, parts.domain, step) })
    }
    return { entries, notes: transient && cfg.eval.memoryAugmented ? [TRANSIENT_NOTE] : [] }
  }))

/** The evaluation seeds of a K-seed measurement: 1000, 1001, ... */
export const evalNoiseSeeds = (k: number): Array<number> => Array.from({ length: k }, (_, i) => EVAL_SEED_BASE + i)

/**
 * Where a measurement is written: eval-noise.json for a checkpoint with its own memory (the report's
 * "Evaluation noise" reads it), eval-noise-step-S-memory-M.json for a cross evaluation, so one never
 * replaces or passes for the other.
 */
export const evalNoiseFile = (step: number, memoryStep: number | undefined): string =>
  memoryStep === undefined || memoryStep === step ? EVAL_NOISE_FILE : `eval-noise-step-${step}-memory-${memoryStep}.json`

/**
 * `pmdsim eval-noise` without the CLI: evaluates the checkpoint at `step` (default the newest) under K
 * evaluation seeds, reading the memory of checkpoint `memoryStep` when given, and writes the result
 * (evalNoiseFile). Returns it with the file's name. The caller holds the run's lock.
 */
export const measureEvalNoise = (dir: string, options: { readonly step?: number | undefined; readonly memoryStep?: number | undefined; readonly seeds: number }) =>
  Effect.gen(function*() {
    const cfg = readRunConfig(dir)
    const step = pickCheckpoint(dir, options.step)
    const memoryStep = options.memoryStep === undefined || options.memoryStep === step ? undefined : pickCheckpoint(dir, options.memoryStep, " to read the memory of (--memory-step)")
    if (memoryStep !== undefined && cfg.method === "pmd-transient") throw new RunDirError({ dir, problem: "is a pmd-transient run, whose memory is rebuilt from each step's batch and never stored: --memory-step has no memory to read" })
    const { entries, notes } = yield* evaluateCheckpoint(dir, cfg, step, evalNoiseSeeds(options.seeds), memoryStep)
    const out: EvalNoise = {
      format: EVAL_NOISE_FORMAT, step, ...(memoryStep === undefined ? {} : { memoryStep }), method: cfg.method, seed: cfg.seed, resultHash: resultHash(cfg),
      entries, summary: noiseSummary(entries), notes
    }
    const file = evalNoiseFile(step, memoryStep)
    writeFileDurable(join(dir, file), `${JSON.stringify(out, null, 2)}\n`)
    return { noise: out, file }
  })
