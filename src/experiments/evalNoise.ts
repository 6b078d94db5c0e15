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
import { applyCheckpoint, restoreCheckpoint } from "./restore.ts"
import { readRunConfig } from "./resume.ts"
import { checkpointSteps, RunDirError } from "./runDir.ts"
import { buildParts } from "./setup.ts"

/** Evaluation seed i of `pmdsim eval-noise` is 1000 + i: far from the small run seeds sweeps use. */
export const EVAL_SEED_BASE = 1000
export const DEFAULT_EVAL_NOISE_SEEDS = 5

/** The checkpoint step to evaluate: `requested`, or the newest; RunDirError (exit 2) naming the ones there are. */
export const pickCheckpoint = (dir: string, requested: number | undefined): number => {
  const steps = checkpointSteps(dir)
  if (requested === undefined) {
    if (steps.length === 0) throw new RunDirError({ dir, problem: "has no checkpoint to evaluate" })
    return steps[steps.length - 1]!
  }
  if (!steps.includes(requested)) throw new RunDirError({ dir, problem: `has no checkpoint at step ${requested} (available: ${steps.join(", ") || "none"})` })
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
 */
export const evaluateCheckpoint = (dir: string, cfg: RunConfig, step: number, evalSeeds: ReadonlyArray<number>) =>
  Effect.scoped(Effect.gen(function*() {
    yield* Effect.promise(() => initBackend(cfg.backend, { threads: cfg.threads ?? 1, fma: cfg.numeric?.fma ?? false }))
    // the memory store is opened, pointed at the checkpoint's head in this process only, and never saved
    const restored = restoreCheckpoint(dir, cfg, step)
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
 * `pmdsim eval-noise` without the CLI: evaluates the checkpoint at `step` (default the newest) under K
 * evaluation seeds and writes eval-noise.json. The caller holds the run's lock.
 */
export const measureEvalNoise = (dir: string, options: { readonly step?: number | undefined; readonly seeds: number }) =>
  Effect.gen(function*() {
    const cfg = readRunConfig(dir)
    const step = pickCheckpoint(dir, options.step)
    const { entries, notes } = yield* evaluateCheckpoint(dir, cfg, step, evalNoiseSeeds(options.seeds))
    const out: EvalNoise = {
      format: EVAL_NOISE_FORMAT, step, method: cfg.method, seed: cfg.seed, resultHash: resultHash(cfg),
      entries, summary: noiseSummary(entries), notes
    }
    writeFileDurable(join(dir, EVAL_NOISE_FILE), `${JSON.stringify(out, null, 2)}\n`)
    return out
  })
