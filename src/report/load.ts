/**
 * Reads run data from disk: a run directory (config.json + metrics.jsonl) or a sweep directory (a folder
 * whose sub-folders are run directories), into RunData sorted by run name.
 *
 * config.json must hold `method` (a string) and `seed` (an integer); `knobs`, when present, is a flat
 * object of string / number / boolean values (the settings that tell the runs of a sweep apart, e.g.
 * { "memory.lag": 2 }). Any other fields are the run's own business and are ignored here.
 *
 * Every problem is a typed error naming the file and, for metrics.jsonl, the 1-based line.
 * Blank lines (a trailing newline) are allowed; anything else must be a well-formed row with every value
 * in its range (validate.ts), and steps must increase per kind (and protocol): a duplicate would count
 * twice in every mean, a step going back means a damaged file or two writers.
 */
import { readFileSync } from "node:fs"
import { readdir, readFile, stat } from "node:fs/promises"
import { basename, dirname, join } from "node:path"
import type { MetricsRow, RunData } from "../experiments/metrics.ts"
import { MetricsLineError, RunConfigError, RunDirError } from "./errors.ts"
import { compareStrings } from "./stats.ts"
import { RowShapeError, toMetricsRow } from "./validate.ts"

export const CONFIG_FILE = "config.json"
export const METRICS_FILE = "metrics.jsonl"

const exists = async (path: string): Promise<boolean> => {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

const readText = async (file: string, dir: string): Promise<string> => {
  try {
    return await readFile(file, "utf8")
  } catch (e) {
    throw new RunDirError(dir, `cannot read ${basename(file)}: ${(e as Error).message}`)
  }
}

type Knobs = RunData["knobs"]

/** Parse config.json text into the run's method, seed and knobs. */
export const parseConfig = (text: string, file: string): { method: string; seed: number; knobs: Knobs } => {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    throw new RunConfigError(file, `not JSON: ${(e as Error).message}`)
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new RunConfigError(file, "must be a JSON object")
  const o = value as Record<string, unknown>
  const method = o["method"]
  if (typeof method !== "string" || method === "") throw new RunConfigError(file, "method must be a non-empty string")
  const seed = o["seed"]
  if (typeof seed !== "number" || !Number.isInteger(seed)) throw new RunConfigError(file, "seed must be an integer")
  const raw = o["knobs"] ?? {}
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new RunConfigError(file, "knobs must be an object")
  const knobs: Record<string, string | number | boolean> = {}
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof v !== "string" && typeof v !== "boolean" && !(typeof v === "number" && Number.isFinite(v))) {
      throw new RunConfigError(file, `knobs.${k} must be a string, a finite number or a boolean`)
    }
    knobs[k] = v
  }
  return { method, seed, knobs }
}

export interface ParseMetricsOptions {
  /**
   * Leave out a last line that was cut off (no newline at its end, not JSON) instead of failing: for a
   * writer that resumes a run stopped while appending (that line belongs to a step after the newest
   * checkpoint). Readers of results (report, sweep aggregate) keep the default and fail.
   */
  readonly dropTruncatedLastLine?: boolean
}

/**
 * Parse metrics.jsonl text into rows, in file order. Beyond the shape and ranges of each row (validate.ts),
 * steps must increase: train rows from line to line, eval rows within each protocol (a resumed run
 * truncates the file to its checkpoint before appending, so a valid file never goes back).
 */
export const parseMetrics = (text: string, file: string, options: ParseMetricsOptions = {}): Array<MetricsRow> => {
  const rows: Array<MetricsRow> = []
  const seen = new Map<string, number>()
  // per series (train, or one eval protocol): the previous row's step and line
  const last = new Map<string, { readonly step: number; readonly line: number }>()
  const lines = text.split("\n")
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, "")
    const lineNo = i + 1
    if (line.trim() === "") continue
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch (e) {
      // split leaves the text after the final newline last: non-blank there means the line was never ended
      if (i === lines.length - 1) {
        if (options.dropTruncatedLastLine === true) break
        throw new MetricsLineError(file, lineNo, "truncated or damaged: the last line is not JSON and has no newline at its end (was the run stopped while writing it?)")
      }
      throw new MetricsLineError(file, lineNo, `not JSON: ${(e as Error).message}`)
    }
    let row: MetricsRow
    try {
      row = toMetricsRow(value)
    } catch (e) {
      if (e instanceof RowShapeError) throw new MetricsLineError(file, lineNo, e.message)
      throw e
    }
    const series = row.kind === "train" ? "train" : `${row.protocol} eval`
    const key = `${series} step ${row.step}`
    const first = seen.get(key)
    if (first !== undefined) throw new MetricsLineError(file, lineNo, `duplicate ${key} (first at line ${first})`)
    const previous = last.get(series)
    if (previous !== undefined && row.step < previous.step) {
      throw new MetricsLineError(file, lineNo, `${key} goes back: after ${series} step ${previous.step} (line ${previous.line}); steps must increase`)
    }
    seen.set(key, lineNo)
    last.set(series, { step: row.step, line: lineNo })
    rows.push(row)
  }
  return rows
}

/**
 * Read and check one metrics.jsonl (the reader for everything that uses a run's metrics: report, sweep
 * aggregate, resume). Throws RunDirError when the file cannot be read, MetricsLineError (file:line)
 * when a line is damaged.
 */
export const parseMetricsFile = (file: string, options: ParseMetricsOptions = {}): Array<MetricsRow> => {
  let text: string
  try {
    text = readFileSync(file, "utf8")
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === "ENOENT"
      ? `no ${basename(file)}: the run has written no metrics`
      : `cannot read ${basename(file)}: ${(e as Error).message}`
    throw new RunDirError(dirname(file), reason)
  }
  return parseMetrics(text, file, options)
}

/** Load one run directory; its name is the directory's base name. */
export const loadRun = async (dir: string): Promise<RunData> => {
  const configFile = join(dir, CONFIG_FILE)
  const metricsFile = join(dir, METRICS_FILE)
  if (!(await exists(configFile))) throw new RunDirError(dir, `no ${CONFIG_FILE}: not a run directory`)
  if (!(await exists(metricsFile))) throw new RunDirError(dir, `no ${METRICS_FILE}: the run has written no metrics`)
  const config = parseConfig(await readText(configFile, dir), configFile)
  const rows = parseMetricsFile(metricsFile)
  return { name: basename(dir), ...config, rows }
}

const isRunDir = async (dir: string): Promise<boolean> =>
  (await exists(join(dir, CONFIG_FILE))) || (await exists(join(dir, METRICS_FILE)))

/**
 * Load a run directory, or a sweep directory whose sub-folders holding config.json or metrics.jsonl are
 * runs (other sub-folders are skipped). Runs come back sorted by name.
 */
export const loadRuns = async (dir: string): Promise<Array<RunData>> => {
  let entries
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch (e) {
    throw new RunDirError(dir, `cannot read directory: ${(e as Error).message}`)
  }
  if (await isRunDir(dir)) return [await loadRun(dir)]
  const subdirs = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort(compareStrings)
  const runs: Array<RunData> = []
  for (const name of subdirs) {
    const sub = join(dir, name)
    if (await isRunDir(sub)) runs.push(await loadRun(sub))
  }
  if (runs.length === 0) {
    throw new RunDirError(dir, `no runs: neither it nor any sub-folder holds ${CONFIG_FILE} or ${METRICS_FILE}`)
  }
  return runs
}

export const SWEEP_SUMMARY_FILE = "sweep-summary.json"

/**
 * The paired baseline a sweep directory's sweep-summary.json names (every row's `paired.baseline`, written
 * from the sweep file's `baseline`), or undefined: no such file (a run directory, a sweep before its
 * summary), or one without the field (written before paired statistics). A file that is not JSON is a
 * RunDirError. The report pairs against it.
 */
export const readSweepBaseline = (dir: string): string | undefined => {
  let text: string
  try {
    text = readFileSync(join(dir, SWEEP_SUMMARY_FILE), "utf8")
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined
    throw new RunDirError(dir, `cannot read ${SWEEP_SUMMARY_FILE}: ${(e as Error).message}`)
  }
  let rows: unknown
  try {
    rows = JSON.parse(text)
  } catch (e) {
    throw new RunDirError(dir, `${SWEEP_SUMMARY_FILE} is not JSON: ${(e as Error).message}`)
  }
  if (!Array.isArray(rows)) return undefined
  for (const r of rows) {
    const b = (r as { paired?: { baseline?: unknown } } | null)?.paired?.baseline
    if (typeof b === "string") return b
  }
  return undefined
}
