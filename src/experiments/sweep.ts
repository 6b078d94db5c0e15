/**
 * Sweeps: methods x seeds x knob values, each run a child process (`pmdsim run`), at most
 * `parallel` at a time (default: the core count), then an aggregate table of means with 95%
 * confidence intervals over seeds and the HTML report of all runs.
 *
 * Sweep file (JSON): { "preset": "default", "set": { "steps": 60 }, "methods": ["grpo", "sdpo", "pmd"],
 *   "seeds": [1, 2, 3], "knobs": { "memory.lag": [0, 2] }, "parallel": 2 }
 */
import { Schema } from "effect"
import { spawn } from "node:child_process"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { availableParallelism } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { type Method, Methods } from "../config/RunConfig.ts"
import { resolveConfig } from "../config/resolve.ts"
import { meanCI } from "../report/stats.ts"
import type { EvalRow, MetricsRow } from "./metrics.ts"
import { FILES, writeAtomic } from "./runDir.ts"

export class SweepConfigError extends Schema.TaggedError<SweepConfigError>()("SweepConfigError", { message: Schema.String }) {}

const Knob = Schema.Union([Schema.Finite, Schema.Boolean, Schema.String])
export const SweepSpec = Schema.Struct({
  preset: Schema.optionalKey(Schema.String),
  set: Schema.optionalKey(Schema.Record(Schema.String, Schema.Unknown)),
  methods: Schema.Array(Schema.Literals(Methods)),
  seeds: Schema.Array(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))),
  knobs: Schema.optionalKey(Schema.Record(Schema.String, Schema.Array(Knob))),
  parallel: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)))
})
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

const MAIN = fileURLToPath(new URL("../cli/main.ts", import.meta.url))

/** Runs one planned run in a child process; resolves with its exit code. Lines are prefixed by its name. */
const runChild = (run: PlannedRun, dir: string, log: (line: string) => void): Promise<number> =>
  new Promise((resolve) => {
    const runDir = join(dir, run.name)
    mkdirSync(dir, { recursive: true })
    const cfgFile = join(dir, `${run.name}.config.json`)
    writeFileSync(cfgFile, JSON.stringify(run.config, null, 2))
    const resume = existsSync(join(runDir, FILES.config)) && !existsSync(join(runDir, FILES.summary))
    const args = [MAIN, "run", "--preset", "default", "--config", cfgFile, "--out", runDir, ...(resume ? ["--resume"] : ["--force"])]
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PMDSIM_PLAIN: "1" } })
    let buf = ""
    const onData = (d: Buffer) => {
      buf += d.toString()
      const lines = buf.split("\n")
      buf = lines.pop() ?? ""
      for (const l of lines) if (l.trim()) log(`[${run.name}] ${l}`)
    }
    child.stdout.on("data", onData)
    child.stderr.on("data", onData)
    child.on("close", (code) => resolve(code ?? 1))
  })

/** Runs the plan with bounded parallelism; runs that already finished (summary.json) are skipped. */
export const executeSweep = async (plan: ReadonlyArray<PlannedRun>, dir: string, parallel: number, log: (line: string) => void): Promise<Array<{ name: string; code: number }>> => {
  const queue = plan.filter((r) => !existsSync(join(dir, r.name, FILES.summary)))
  const results: Array<{ name: string; code: number }> = plan.filter((r) => !queue.includes(r)).map((r) => ({ name: r.name, code: 0 }))
  const width = Math.max(1, Math.min(parallel, availableParallelism()))
  const worker = async () => {
    for (let r = queue.shift(); r !== undefined; r = queue.shift()) results.push({ name: r.name, code: await runChild(r, dir, log) })
  }
  await Promise.all(Array.from({ length: width }, worker))
  return results.sort((a, b) => (a.name < b.name ? -1 : 1))
}

export interface SettingRow {
  readonly setting: string
  readonly n: number
  readonly cells: Readonly<Record<string, { mean: number; half: number }>>
}

const evalRows = (dir: string): Array<EvalRow> =>
  readFileSync(join(dir, FILES.metrics), "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as MetricsRow)
    .filter((r): r is EvalRow => r.kind === "eval")

/** Mean and 95% CI over seeds of final and best memory-free accuracy, per method x knobs. */
export const aggregate = (plan: ReadonlyArray<PlannedRun>, dir: string): Array<SettingRow> => {
  const settings = new Map<string, Array<PlannedRun>>()
  for (const r of plan) {
    const key = [r.method, ...Object.entries(r.knobs).map(([k, v]) => `${k}=${String(v)}`)].join(" ")
    settings.set(key, [...(settings.get(key) ?? []), r])
  }
  return [...settings.entries()].map(([setting, runs]) => {
    const cols: Record<string, Array<number>> = {}
    for (const r of runs) {
      const d = join(dir, r.name)
      if (!existsSync(join(d, FILES.summary))) continue
      const rows = evalRows(d)
      for (const protocol of ["internalization", "transfer"] as const) {
        const mine = rows.filter((e) => e.protocol === protocol)
        if (mine.length === 0) continue
        const last = mine[mine.length - 1]!
        const push = (k: string, v: number) => { (cols[k] ??= []).push(v) }
        push(`${protocol} avg@k`, last.memoryFree.avgAtK)
        push(`${protocol} best avg@k`, Math.max(...mine.filter((e) => e.step > 0).map((e) => e.memoryFree.avgAtK)))
        push(`${protocol} pass@k`, last.memoryFree.passAtK)
        push(`${protocol} headroom`, last.memoryFree.headroom)
        if (last.memoryAugmented !== null) push(`${protocol} with memory`, last.memoryAugmented.avgAtK)
      }
    }
    const cells: Record<string, { mean: number; half: number }> = {}
    let n = 0
    for (const [k, vs] of Object.entries(cols)) {
      const s = meanCI(vs)
      cells[k] = { mean: s.mean, half: s.half }
      n = Math.max(n, vs.length)
    }
    return { setting, n, cells }
  })
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

export const writeSweepSummary = (dir: string, rows: ReadonlyArray<SettingRow>): void =>
  writeAtomic(join(dir, "sweep-summary.json"), `${JSON.stringify(rows, null, 2)}\n`)
