/**
 * `run` and `resume` as Effects: one training run into a run directory, under its lock, exactly as
 * `pmdsim run` does (same files, same crash recovery, same hashes), minus the terminal output. The
 * config's plug-in names are resolved in the `Plugins` registry in context (default: the process-wide one).
 */
import { Effect } from "effect"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { resolveConfig, validateConfig } from "../config/resolve.ts"
import type { RunConfig } from "../config/RunConfig.ts"
import { makeDirDurable } from "../core/durableFile.ts"
import type { MetricsRow } from "../protocol/metrics.ts"
import { readBoundConfig } from "../experiments/resume.ts"
import { runTraining, type Summary } from "../experiments/run.ts"
import { FILES, prepareNewRun, removeOwnTemps, requireDirOrAbsent, RunDirError } from "../experiments/runDir.ts"
import { withRunLock } from "../experiments/runLock.ts"
import { readSummary } from "../experiments/summaryFile.ts"
import { resolvePlugins } from "../plugins/registry.ts"
import { Plugins } from "../plugins/services.ts"
import { writeReport } from "../report/index.ts"
import { type PmdsimError, typed } from "./errors.ts"

/** A finished (or stopped) run: summary.json's content, and whether it stopped early at a checkpoint. */
export type RunSummary = Summary & { readonly halted: boolean }

/** The config of a run: a complete one, or what to resolve (an embedded preset, a JSON file, `--set` style overrides). */
export type ConfigInput =
  | { readonly config: RunConfig }
  | { readonly preset?: string; readonly file?: string; readonly set?: ReadonlyArray<string> }

export interface TrainOptions {
  /** Called with every metrics row as it is written (metrics.jsonl). */
  readonly onRow?: (row: MetricsRow) => void
  /** Set `requested` to stop after the current step with a checkpoint (resume later with `resume`). */
  readonly stop?: { requested: boolean }
  /** Write report.html and the CSV files at the end (default false: call `report`). */
  readonly report?: boolean
}

export type RunOptions = ConfigInput & TrainOptions & {
  /** The run directory: absent or empty, or (with `force`) a pmdsim run to replace. */
  readonly out: string
  readonly force?: boolean
}

/** Resolves and validates a config (schema, then plug-in names in the registry in context). */
export const resolveRunConfig = (input: ConfigInput): Effect.Effect<RunConfig, PmdsimError> =>
  typed(Effect.gen(function*() {
    const cfg = "config" in input
      ? validateConfig(input.config, "the config given to run")
      : resolveConfig({ preset: input.preset, file: input.file, sets: input.set })
    resolvePlugins(cfg, yield* Plugins)
    return cfg
  }))

const train = (cfg: RunConfig, dir: string, resume: boolean, o: TrainOptions) =>
  Effect.gen(function*() {
    const summary = yield* runTraining({ cfg, dir, resume, ...(o.onRow ? { onRow: o.onRow } : {}), ...(o.stop ? { stop: o.stop } : {}) })
    if (o.report === true && !summary.halted) yield* Effect.promise(() => writeReport(dir))
    return summary
  })

/** Trains one run into `out` (a new run; `force` replaces an existing pmdsim run there). */
export const run = (options: RunOptions): Effect.Effect<RunSummary, PmdsimError> =>
  typed(Effect.gen(function*() {
    const cfg = yield* resolveRunConfig(options)
    requireDirOrAbsent(options.out)
    makeDirDurable(options.out)
    return yield* withRunLock(options.out, "run", Effect.gen(function*() {
      prepareNewRun(options.out, options.force === true)
      return yield* train(cfg, options.out, false, options)
    }))
  }))

/** Continues the run in `out` from its last checkpoint with its own config.json; a finished run returns its summary. */
export const resume = (options: TrainOptions & { readonly out: string }): Effect.Effect<RunSummary, PmdsimError> =>
  typed(Effect.gen(function*() {
    const dir = options.out
    requireDirOrAbsent(dir)
    if (!existsSync(dir)) return yield* Effect.fail(new RunDirError({ dir, problem: "no such run directory: nothing to resume" }))
    return yield* withRunLock(dir, "run --resume", Effect.gen(function*() {
      const cfg = readBoundConfig(dir)
      resolvePlugins(cfg, yield* Plugins)
      if (existsSync(join(dir, FILES.summary))) {
        removeOwnTemps(dir)
        return { ...readSummary(join(dir, FILES.summary)), halted: false }
      }
      return yield* train(cfg, dir, true, options)
    }))
  }))
