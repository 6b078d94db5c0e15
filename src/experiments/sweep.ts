/**
 * Sweeps: methods x seeds x knob values, each run a child process (`pmdsim run`), at most
 * `parallel` at a time (default: the core count), then an aggregate table of means with 95%
 * confidence intervals over seeds and the HTML report of all runs.
 *
 * Sweep file (JSON): { "preset": "default", "set": { "steps": 60 }, "methods": ["grpo", "sdpo", "pmd"],
 *   "seeds": [1, 2, 3], "knobs": { "memory.lag": [0, 2] }, "parallel": 2, "baseline": "grpo" }
 * `baseline` names the setting every other one is paired against, seed by seed (src/report/paired.ts):
 * "grpo", or "pmd memory.lag=0"; default the plan's first setting (the first method, first knob values).
 */
import { Schema } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { availableParallelism } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { type Method, Methods } from "../config/RunConfig.ts"
import { resolveConfig, resultFieldDiff, resultHash } from "../config/resolve.ts"
import type { RunConfig } from "../config/RunConfig.ts"
import { removeDurable, writeFileDurable } from "../core/durableFile.ts"
import { parseMetricsFile } from "../report/load.ts"
import { type BootstrapOptions, matchesSetting, pairAgainstBaseline, type PairedSummary, runMetrics, seedMetrics } from "../report/paired.ts"
import { meanCI } from "../report/stats.ts"
import type { EvalRow } from "../protocol/metrics.ts"
import { describeFieldChanges } from "./resume.ts"
import { FILES, hasMarker, MARKER_TEMP, readMarker, removeOwnTemps, requireDirOrAbsent, RunDirError } from "./runDir.ts"
import { acquireRunLock, type RunLock, RunLocked } from "./runLock.ts"
import { readSummary } from "./summaryFile.ts"

export class SweepConfigError extends Schema.TaggedError<SweepConfigError>()("SweepConfigError", { message: Schema.String }) {}

const Knob = Schema.Union([Schema.Finite, Schema.Boolean, Schema.String])
export const SweepSpec = Schema.Struct({
  preset: Schema.optionalKey(Schema.String),
  set: Schema.optionalKey(Schema.Record(Schema.String, Schema.Unknown)),
  methods: Schema.Array(Schema.Literals(Methods)),
  seeds: Schema.Array(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))),
  knobs: Schema.optionalKey(Schema.Record(Schema.String, Schema.Array(Knob))),
  parallel: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
  /** the setting the paired differences are taken against ("grpo", "pmd memory.lag=0"); default the first setting */
  baseline: Schema.optionalKey(Schema.String)
}).check(Schema.makeFilter((s) =>
  s.baseline === undefined || s.methods.some((m) => combos(s.knobs ?? {}).some((k) => matchesSetting(s.baseline!, m, k))) ||
  `baseline ${JSON.stringify(s.baseline)} names no setting of the sweep (a method, then optional knob=value pairs: "grpo", "pmd memory.lag=0")`))
export type SweepSpec = typeof SweepSpec.Type

export const readSweepSpec = (file: string): SweepSpec => {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(file, "utf8"))
  } catch (e) {
    throw new SweepConfigError({ message: `cannot read sweep file ${file}: ${(e as Error).message}` })
  }
  try {
    return Schema.decodeUnknownSync(SweepSpec, { onExcessProperty: "error", errors: "all" })(raw)
  } catch (e) {
    throw new SweepConfigError({ message: `invalid sweep file ${file}:\n${(e as Error).message}` })
  }
}

export interface PlannedRun {
  readonly name: string
  readonly method: Method
  readonly seed: number
  readonly knobs: Readonly<Record<string, string | number | boolean>>
  readonly config: unknown
}

const combos = (knobs: Readonly<Record<string, ReadonlyArray<string | number | boolean>>>): Array<Record<string, string | number | boolean>> =>
  Object.entries(knobs).sort(([a], [b]) => (a < b ? -1 : 1)).reduce<Array<Record<string, string | number | boolean>>>(
    (acc, [k, vs]) => acc.flatMap((c) => vs.map((v) => ({ ...c, [k]: v }))), [{}])

/** Every run of the sweep, fully resolved and validated before anything starts. */
export const planSweep = (spec: SweepSpec): Array<PlannedRun> =>
  spec.methods.flatMap((method) => spec.seeds.flatMap((seed) => combos(spec.knobs ?? {}).map((knobs) => {
    const sets = [...Object.entries(spec.set ?? {}), ...Object.entries(knobs)].map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    const config = resolveConfig({ preset: spec.preset, sets, overrides: { method, seed, knobs: knobs as never } })
    const suffix = Object.entries(knobs).map(([k, v]) => `-${k.replace(/[^a-zA-Z0-9]+/g, "_")}=${String(v)}`).join("")
    return { name: `${method}-s${seed}${suffix}`, method, seed, knobs, config }
  })))

// the CLI each run is a child of: main.ts from the sources, main.js from the compiled package (dist/)
const MAIN = fileURLToPath(new URL(import.meta.url.endsWith(".ts") ? "../cli/main.ts" : "../cli/main.js", import.meta.url))

/** A rerun whose plan differs from the runs already in the sweep directory (exit 3 unless --force). */
export class SweepChanged extends Schema.TaggedError<SweepChanged>()("SweepChanged", { dir: Schema.String, changes: Schema.Array(Schema.String) }) {
  override get message(): string {
    return `${this.dir}: the sweep's config differs for runs already there, whose results would be reused silently:\n` +
      `${this.changes.map((c) => `  ${c}`).join("\n")}\npass --force to redo only those runs, or choose another --out`
  }
}

export type RunStatus = "done" | "resume" | "new" | "redo"

/**
 * What to do with each planned run, from what its directory holds: `done` (summary written, same
 * result config), `resume` (started, same config), `new`, or `redo` (a different result config: only
 * with `force`; otherwise SweepChanged names the runs and fields). A run directory that is not a pmdsim
 * run is never touched (RunDirError).
 */
export const sweepStatus = (plan: ReadonlyArray<PlannedRun>, dir: string, force: boolean): Map<string, RunStatus> => {
  removeSweepTemps(dir)
  const status = new Map<string, RunStatus>()
  const changes: Array<string> = []
  for (const r of plan) {
    const runDir = join(dir, r.name)
    if (!hasMarker(runDir)) {
      prepareNewRunCheck(runDir)
      status.set(r.name, "new")
      continue
    }
    const marker = readMarker(runDir)
    const planned = r.config as RunConfig
    if (marker.resultHash !== resultHash(planned)) {
      changes.push(`${r.name}: ${describeFieldChanges(marker.config, planned, resultFieldDiff(marker.config, planned))}`)
      status.set(r.name, "redo")
    } else if (existsSync(join(runDir, FILES.summary))) {
      readSummary(join(runDir, FILES.summary))
      tidyFinishedRun(runDir)
      status.set(r.name, "done")
    } else status.set(r.name, "resume")
  }
  if (changes.length > 0 && !force) throw new SweepChanged({ dir, changes })
  return status
}

/** Temp files a crashed sweep (or study) can leave in its own directory: its runs' config files, summaries, report. */
const SWEEP_TEMP = /^(.+\.config\.json|sweep-summary\.json|study-summary\.json|report\.html|metrics-(train|eval)\.csv)\.\d+\.tmp$/

const removeSweepTemps = (dir: string): void => {
  for (const n of readdirSync(dir)) if (SWEEP_TEMP.test(n)) removeDurable(join(dir, n))
}

/** A finished run killed while writing its report leaves a temp file: removed under the run's lock (skipped if held). */
const tidyFinishedRun = (runDir: string): void => {
  let lock: RunLock
  try {
    lock = acquireRunLock(runDir, "sweep")
  } catch (e) {
    if (e instanceof RunLocked) return
    throw e
  }
  try {
    removeOwnTemps(runDir)
  } finally {
    lock.release()
  }
}

/** A run directory without a marker must be absent or empty (but for a stale lock or the marker's temp file). */
const prepareNewRunCheck = (runDir: string): void => {
  requireDirOrAbsent(runDir)
  if (existsSync(runDir) && readdirSync(runDir).some((n) => !n.startsWith(FILES.lock) && !MARKER_TEMP.test(n))) {
    throw new RunDirError({ dir: runDir, problem: `is not empty and is not a pmdsim run directory (no ${FILES.marker}): remove it yourself, or choose another --out` })
  }
}

/** The sweep's child processes, so that SIGINT / SIGTERM to the sweep reach them. */
const children = new Set<ChildProcess>()

/** Runs one planned run in a child process; resolves with its exit code. Lines are prefixed by its name. */
const runChild = (run: PlannedRun, status: RunStatus, dir: string, log: (line: string) => void): Promise<number> =>
  new Promise((resolve) => {
    const runDir = join(dir, run.name)
    const cfgFile = join(dir, `${run.name}.config.json`)
    writeFileDurable(cfgFile, `${JSON.stringify(run.config, null, 2)}\n`)
    const args = [MAIN, "run", "--out", runDir, ...(status === "resume" ? ["--resume"] : ["--config", cfgFile, "--force"])]
    // the child stops at a checkpoint if this process dies (PMDSIM_PARENT_PID): no orphan writes on
    // its own process group: a terminal's Ctrl-C reaches the sweep alone, which passes it on exactly once
    const child = spawn(process.execPath, args, { detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PMDSIM_PLAIN: "1", PMDSIM_PARENT_PID: String(process.pid) } })
    children.add(child)
    let buf = ""
    const onData = (d: Buffer) => {
      buf += d.toString()
      const lines = buf.split("\n")
      buf = lines.pop() ?? ""
      for (const l of lines) if (l.trim()) log(`[${run.name}] ${l}`)
    }
    child.stdout.on("data", onData)
    child.stderr.on("data", onData)
    child.on("close", (code) => {
      children.delete(child)
      resolve(code ?? 1)
    })
  })

/**
 * Runs the plan with bounded parallelism; finished runs are skipped, started ones resumed, changed ones
 * redone (`status`). SIGINT / SIGTERM stop launching runs and are passed on to the running children,
 * which checkpoint and exit; the sweep then resolves with their exit codes (130).
 */
export const executeSweep = async (plan: ReadonlyArray<PlannedRun>, status: ReadonlyMap<string, RunStatus>, dir: string, parallel: number, log: (line: string) => void): Promise<Array<{ name: string; code: number }>> => {
  const queue = plan.filter((r) => status.get(r.name) !== "done")
  const results: Array<{ name: string; code: number }> = plan.filter((r) => status.get(r.name) === "done").map((r) => ({ name: r.name, code: 0 }))
  const width = Math.max(1, Math.min(parallel, availableParallelism()))
  let stopping = false
  const onSignal = (signal: NodeJS.Signals) => {
    stopping = true
    log(`${signal}: passing it to ${children.size} running run(s); each stops at a checkpoint (resume with the same sweep command)`)
    for (const c of children) c.kill(signal)
  }
  process.on("SIGINT", onSignal)
  process.on("SIGTERM", onSignal)
  try {
    const worker = async () => {
      for (let r = queue.shift(); r !== undefined && !stopping; r = queue.shift()) {
        results.push({ name: r.name, code: await runChild(r, status.get(r.name) ?? "new", dir, log) })
      }
    }
    await Promise.all(Array.from({ length: width }, worker))
  } finally {
    process.off("SIGINT", onSignal)
    process.off("SIGTERM", onSignal)
  }
  for (const r of queue) results.push({ name: r.name, code: 130 })
  return results.sort((a, b) => (a.name < b.name ? -1 : 1))
}

export interface SettingRow {
  readonly setting: string
  readonly n: number
  readonly cells: Readonly<Record<string, { mean: number; half: number }>>
  /**
   * This setting minus the baseline setting, per metric, over the seeds both have (src/report/paired.ts);
   * on the baseline's own row `cells` is empty. Every row names the baseline.
   */
  readonly paired: { readonly baseline: string; readonly cells: Readonly<Record<string, PairedSummary>> }
}

const evalRows = (dir: string): Array<EvalRow> =>
  parseMetricsFile(join(dir, FILES.metrics)).filter((r): r is EvalRow => r.kind === "eval")

export interface AggregateOptions {
  /** the sweep file's `baseline` (default: the plan's first setting) */
  readonly baseline?: string | undefined
  /** add a percentile bootstrap interval to every paired difference */
  readonly bootstrap?: BootstrapOptions | undefined
}

/**
 * Mean and 95% CI over seeds of final and best memory-free accuracy, per method x knobs, and each
 * setting's paired difference against the baseline setting.
 */
export const aggregate = (plan: ReadonlyArray<PlannedRun>, dir: string, options: AggregateOptions = {}): Array<SettingRow> => {
  const settings = new Map<string, Array<PlannedRun>>()
  for (const r of plan) {
    const key = [r.method, ...Object.entries(r.knobs).map(([k, v]) => `${k}=${String(v)}`)].join(" ")
    settings.set(key, [...(settings.get(key) ?? []), r])
  }
  const rows = [...settings.entries()].map(([setting, runs]) => {
    const cols: Record<string, Array<number>> = {}
    const perRun: Array<{ seed: number; metrics: Record<string, number> }> = []
    for (const r of runs) {
      const d = join(dir, r.name)
      if (!existsSync(join(d, FILES.summary))) continue
      const metrics = runMetrics(evalRows(d))
      perRun.push({ seed: r.seed, metrics })
      for (const [k, v] of Object.entries(metrics)) (cols[k] ??= []).push(v)
    }
    const cells: Record<string, { mean: number; half: number }> = {}
    let n = 0
    for (const [k, vs] of Object.entries(cols)) {
      const s = meanCI(vs)
      cells[k] = { mean: s.mean, half: s.half }
      n = Math.max(n, vs.length)
    }
    return { setting, n, cells, seeds: seedMetrics(setting, runs[0]!.method, runs[0]!.knobs, perRun) }
  })
  const table = pairAgainstBaseline(rows.map((r) => r.seeds), options.baseline, { bootstrap: options.bootstrap })
  if (table?.requested !== undefined) throw new SweepConfigError({ message: `baseline ${JSON.stringify(table.requested)} names no setting of the sweep (settings: ${rows.map((r) => JSON.stringify(r.setting)).join(", ")})` })
  return rows.map(({ setting, n, cells }) => ({
    setting, n, cells,
    paired: { baseline: table?.baseline ?? setting, cells: table?.rows.find((p) => p.setting === setting)?.cells ?? {} }
  }))
}

/** A plain-text table of the aggregate (percentages, mean ± 95% CI half-width). */
export const formatTable = (rows: ReadonlyArray<SettingRow>, columns: ReadonlyArray<string>): string => {
  const head = ["setting", "n", ...columns]
  const body = rows.map((r) => [r.setting, String(r.n), ...columns.map((c) => {
    const v = r.cells[c]
    return v === undefined ? "-" : `${(100 * v.mean).toFixed(1)} ± ${(100 * v.half).toFixed(1)}`
  })])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ")
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n")
}

/**
 * sweep-summary.json: the array of setting rows (kept an array for existing readers); each row's
 * `paired` holds its paired differences against `paired.baseline` (README "Paired statistics").
 */
export const writeSweepSummary = (dir: string, rows: ReadonlyArray<SettingRow>): void =>
  writeFileDurable(join(dir, "sweep-summary.json"), `${JSON.stringify(rows, null, 2)}\n`)
