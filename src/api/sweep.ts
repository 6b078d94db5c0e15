/**
 * `sweep` as an Effect: methods x seeds x knobs, each run a child process (`pmdsim run`), then the
 * aggregate table (sweep-summary.json) and the report, exactly as `pmdsim sweep` (it prints the same
 * progress lines). The runs are separate processes, so plug-ins registered in code do not reach them:
 * pass the files that register them in `plugins` (each run loads them, PMDSIM_PLUGINS).
 */
import { Effect } from "effect"
import { existsSync } from "node:fs"
import { delimiter, join } from "node:path"
import type { RunConfig } from "../config/RunConfig.ts"
import { readJson } from "../experiments/runDir.ts"
import { planSweep, readSweepSpec, type SettingRow, type SweepSpec } from "../experiments/sweep.ts"
import { runSweep } from "../cli/commands/sweep.ts"
import { loadPluginFiles, PLUGINS_ENV } from "../plugins/load.ts"
import { checkPluginNames } from "../plugins/registry.ts"
import { Plugins } from "../plugins/services.ts"
import { type PmdsimError, typed } from "./errors.ts"

export interface SweepOptions {
  /** The sweep: a spec ({ preset, set, methods, seeds, knobs, parallel, baseline }) or the path of its JSON file. */
  readonly spec: SweepSpec | string
  readonly out: string
  /** Redo the runs whose config changed since they ran (only those). */
  readonly force?: boolean
  /** Plug-in files every run loads (and this process too, into the registry in context). */
  readonly plugins?: ReadonlyArray<string>
}

export interface SweepResult {
  /** The CLI's exit code: 0 all runs done, 1 some failed, 3 some busy, 130 interrupted. */
  readonly exitCode: number
  /** The aggregate rows (sweep-summary.json), when the sweep got that far. */
  readonly rows: ReadonlyArray<SettingRow> | null
}

export const sweep = (options: SweepOptions): Effect.Effect<SweepResult, PmdsimError> =>
  typed(Effect.gen(function*() {
    const spec = typeof options.spec === "string" ? readSweepSpec(options.spec) : options.spec
    const registry = yield* Plugins
    const files = yield* loadPluginFiles(options.plugins ?? [], registry)
    checkPluginNames(planSweep(spec).map((r) => r.config as RunConfig), registry)
    // the child runs inherit this process's environment: name the plug-in files there for the sweep's duration
    const exitCode = yield* Effect.acquireUseRelease(
      Effect.sync(() => {
        const before = process.env[PLUGINS_ENV]
        if (files.length > 0) process.env[PLUGINS_ENV] = files.join(delimiter)
        return before
      }),
      () => runSweep(spec, options.out, options.force === true),
      (before) => Effect.sync(() => {
        if (before === undefined) delete process.env[PLUGINS_ENV]
        else process.env[PLUGINS_ENV] = before
      })
    )
    const file = join(options.out, "sweep-summary.json")
    return { exitCode, rows: existsSync(file) ? (readJson(file) as ReadonlyArray<SettingRow>) : null }
  }))
