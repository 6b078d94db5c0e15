/**
 * `pmdsim`: the library's main entry point.
 *
 * - run / resume / sweep / replay / fork / report / memoryReplay as Effects (failures typed as PmdsimError, `_tag`), and
 *   the same as Promises (runPromise, ...);
 * - the RunConfig Schema, the embedded presets and config resolution (preset + file + `key=value` sets);
 * - the result types (RunSummary, metrics rows, sweep rows, replay divergence).
 * Plug-ins live in `pmdsim/plugins`, property-test kits in `pmdsim/testing`.
 */
export { run, resume, resolveRunConfig, type ConfigInput, type RunOptions, type RunSummary, type TrainOptions } from "./run.ts"
export { sweep, type SweepOptions, type SweepResult } from "./sweep.ts"
export { replay, type ReplayDivergence, type ReplayResult } from "./replay.ts"
export { fork, type ForkOptions } from "./fork.ts"
export { memoryReplay, type MemoryComparison, type MemoryReplayOptions, type MemoryReplayResult, type MemoryVersionRef, type MemoryVersionRow } from "./memoryReplay.ts"
export { report, type ReportFiles } from "./report.ts"
export { forkPromise, memoryReplayPromise, replayPromise, reportPromise, resumePromise, runPromise, sweepPromise } from "./promise.ts"
export { EXIT, exitCodeOf, isPmdsimError, type PmdsimError } from "./errors.ts"

export { Methods, type Method, RunConfig } from "../config/RunConfig.ts"
export { defaultConfig, presets, tinyConfig } from "../config/presets.ts"
export { ConfigError, configHash, resolveConfig, resultHash, type ResolveInput } from "../config/resolve.ts"
export type { Summary } from "../experiments/run.ts"
export type { EvalRow, MetricsRow, TrainRow } from "../protocol/metrics.ts"
export { SweepSpec, type SettingRow } from "../experiments/sweep.ts"
export { RunDirError, RunDirRefused } from "../experiments/runDir.ts"
export { RunLocked } from "../experiments/runLock.ts"
export { Plugins, withPlugins } from "../plugins/services.ts"
export { registerPlugins } from "../plugins/registry.ts"
