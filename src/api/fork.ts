/**
 * `fork` as an Effect: a new run starting from another run's checkpoint, with changed config fields,
 * exactly as `pmdsim fork` (the source is checked whole before `out` is touched).
 */
import { Effect } from "effect"
import { makeDirDurable } from "../core/durableFile.ts"
import { runTraining } from "../experiments/run.ts"
import { requireDirOrAbsent } from "../experiments/runDir.ts"
import { withRunLock } from "../experiments/runLock.ts"
import { forkConfig, stageFork } from "../cli/commands/fork.ts"
import { resolvePlugins } from "../plugins/registry.ts"
import { Plugins } from "../plugins/services.ts"
import { writeReport } from "../report/index.ts"
import { type PmdsimError, typed } from "./errors.ts"
import type { RunSummary, TrainOptions } from "./run.ts"

export type ForkOptions = TrainOptions & {
  /** The source run directory and the checkpoint step to start from. */
  readonly dir: string
  readonly step: number
  /** Changed config fields, `key=value` as with --set (e.g. "memory.consolidator=top-usage"). */
  readonly set?: ReadonlyArray<string>
  readonly out: string
  readonly force?: boolean
}

export const fork = (options: ForkOptions): Effect.Effect<RunSummary, PmdsimError> =>
  typed(Effect.gen(function*() {
    const cfg = forkConfig(options.dir, options.step, options.set ?? [])
    resolvePlugins(cfg, yield* Plugins)
    requireDirOrAbsent(options.out)
    makeDirDurable(options.out)
    return yield* withRunLock(options.out, "fork", Effect.gen(function*() {
      stageFork(options.dir, options.step, cfg, options.out, options.force === true)
      const summary = yield* runTraining({ cfg, dir: options.out, resume: true, ...(options.onRow ? { onRow: options.onRow } : {}), ...(options.stop ? { stop: options.stop } : {}) })
      if (options.report === true && !summary.halted) yield* Effect.promise(() => writeReport(options.out))
      return summary
    }))
  }))
