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
 *
 * A run may also hold eval-noise.json (`pmdsim eval-noise`: one checkpoint evaluated under several
 * evaluation seeds), read and checked here as well (EvalNoiseFileError names the file and the field).
 */
import { readFileSync } from "node:fs"
import { readdir, readFile, stat } from "node:fs/promises"
import { basename, dirname, join } from "node:path"
import type { EvalRow, MetricsRow, RunData } from "../protocol/metrics.ts"
import { EvalNoiseFileError, MetricsLineError, RunConfigError, RunDirError, StudySummaryFileError } from "./errors.ts"

export { StudySummaryFileError } from "./errors.ts"
import { compareStrings, meanCI } from "./stats.ts"
import { jsonLines } from "./jsonLines.ts"
import { describeValue, type NumberRule, numberProblem, PROTOCOLS, RowShapeError, Rules, toMetricsRow } from "./validate.ts"

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
  for (const { lineNo, value } of jsonLines(text, options, (n, problem) => new MetricsLineError(file, n, problem))) {
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
  const text = readIfPresent(file, (message) => new RunDirError(dirname(file), `cannot read ${basename(file)}: ${message}`))
  if (text === undefined) throw new RunDirError(dirname(file), `no ${basename(file)}: the run has written no metrics`)
  return parseMetrics(text, file, options)
}

const TRACE_FILE = "trace.json"

/** Load one run directory; its name is the directory's base name. `under` = its path from the report's directory. */
export const loadRun = async (dir: string, under = ""): Promise<RunData> => {
  const configFile = join(dir, CONFIG_FILE)
  const metricsFile = join(dir, METRICS_FILE)
  if (!(await exists(configFile))) throw new RunDirError(dir, `no ${CONFIG_FILE}: not a run directory`)
  if (!(await exists(metricsFile))) throw new RunDirError(dir, `no ${METRICS_FILE}: the run has written no metrics`)
  const config = parseConfig(await readText(configFile, dir), configFile)
  const rows = parseMetricsFile(metricsFile)
  const trace = (await exists(join(dir, TRACE_FILE))) ? { trace: under === "" ? TRACE_FILE : `${under}/${TRACE_FILE}` } : {}
  return { name: basename(dir), ...config, rows, ...trace }
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
    if (await isRunDir(sub)) runs.push(await loadRun(sub, name))
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
  const text = readIfPresent(join(dir, SWEEP_SUMMARY_FILE), (message) => new RunDirError(dir, `cannot read ${SWEEP_SUMMARY_FILE}: ${message}`))
  if (text === undefined) return undefined
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

// ---------------------------------------------------------------------------------------------------
// eval-noise.json: one checkpoint evaluated under several evaluation seeds (`pmdsim eval-noise`)

export const EVAL_NOISE_FILE = "eval-noise.json"
export const EVAL_NOISE_FORMAT = "pmdsim-eval-noise/1"
const MARKER_FILE = "pmdsim-run.json"

/** The accuracy figures summarised, per protocol, for the memory-free and the memory-augmented student. */
const NOISE_VARIANTS = ["memoryFree", "memoryAugmented"] as const
const NOISE_FIGURES = ["avgAtK", "passAtK", "majAtK", "headroom", "greedy"] as const
export type NoiseMetric = `${(typeof NOISE_VARIANTS)[number]}.${(typeof NOISE_FIGURES)[number]}`
export const NOISE_METRICS: ReadonlyArray<NoiseMetric> = NOISE_VARIANTS.flatMap((v) => NOISE_FIGURES.map((f) => `${v}.${f}` as const))

/** One metric of one protocol across the evaluation seeds (fractions, as in metrics.jsonl; sd is the n−1 sample SD). */
export interface NoiseStat {
  readonly protocol: EvalRow["protocol"]
  readonly metric: NoiseMetric
  readonly n: number
  readonly mean: number
  readonly sd: number
  readonly min: number
  readonly max: number
}

export interface EvalNoiseEntry {
  readonly evalSeed: number
  /** the evaluation rows under this seed, one per protocol, as a run writes them */
  readonly rows: ReadonlyArray<EvalRow>
}

export interface EvalNoise {
  readonly format: typeof EVAL_NOISE_FORMAT
  /** the checkpoint evaluated */
  readonly step: number
  /** a cross evaluation's memory: the policy of `step` read the memory of this checkpoint (absent: its own) */
  readonly memoryStep?: number
  readonly method: string
  readonly seed: number
  /** result hash of the run's config (its marker's): a run redone under another config makes the file stale */
  readonly resultHash: string
  readonly entries: ReadonlyArray<EvalNoiseEntry>
  /** per protocol and metric, in PROTOCOLS × NOISE_METRICS order: what noiseSummary gives for `entries` */
  readonly summary: ReadonlyArray<NoiseStat>
  /** what could not be measured, and why (e.g. PMD-Transient's memory-augmented accuracy) */
  readonly notes: ReadonlyArray<string>
}

/** One figure of an evaluation row (undefined for memory-augmented figures of a row without them). */
export const noiseMetricOf = (row: EvalRow, metric: NoiseMetric): number | undefined => {
  const [variant, figure] = metric.split(".") as [(typeof NOISE_VARIANTS)[number], (typeof NOISE_FIGURES)[number]]
  return row[variant]?.[figure]
}

/** Mean, SD across evaluation seeds, min and max of every metric that every entry has, per protocol. */
export const noiseSummary = (entries: ReadonlyArray<EvalNoiseEntry>): Array<NoiseStat> => {
  if (entries.length === 0) return []
  const out: Array<NoiseStat> = []
  for (const protocol of PROTOCOLS) {
    for (const metric of NOISE_METRICS) {
      const values = entries.map((e) => {
        const row = e.rows.find((r) => r.protocol === protocol)
        return row === undefined ? undefined : noiseMetricOf(row, metric)
      })
      if (values.some((v) => v === undefined)) continue
      const xs = values as Array<number>
      const s = meanCI(xs, `${protocol} ${metric}`)
      out.push({ protocol, metric, n: s.n, mean: s.mean, sd: s.sd, min: Math.min(...xs), max: Math.max(...xs) })
    }
  }
  return out
}


/**
 * Parse and check eval-noise.json: every row as metrics.jsonl's (validate.ts), at the file's step, one per
 * protocol and seed; seeds distinct; every summary number in its metric's range, min ≤ mean ≤ max, and n the
 * number of entries. Extra fields are ignored, as for metrics rows.
 */
export const parseEvalNoise = (text: string, file: string): EvalNoise => {
  const fail: (reason: string) => never = (reason) => {
    throw new EvalNoiseFileError(file, reason)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    return fail(`not JSON: ${(e as Error).message}`)
  }
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v)
  if (!isObj(value)) return fail(`must hold a JSON object, got ${describeValue(value)}`)
  const o = value
  if (o["format"] !== EVAL_NOISE_FORMAT) fail(`format must be ${JSON.stringify(EVAL_NOISE_FORMAT)}, got ${describeValue(o["format"])}`)
  const num = (v: unknown, path: string, r: NumberRule): number => {
    const p = numberProblem(v, r)
    return p === undefined ? (v as number) : fail(`${path} ${p}`)
  }
  const str = (v: unknown, path: string): string => (typeof v === "string" && v !== "" ? v : fail(`${path} must be a non-empty string, got ${describeValue(v)}`))
  const step = num(o["step"], "step", Rules.count)
  const memoryStep = o["memoryStep"] === undefined ? undefined : num(o["memoryStep"], "memoryStep", Rules.count)
  const method = str(o["method"], "method")
  const seed = num(o["seed"], "seed", Rules.count)
  const resultHash = str(o["resultHash"], "resultHash")
  const rawEntries = o["entries"]
  if (!Array.isArray(rawEntries) || rawEntries.length === 0) fail(`entries must be a non-empty array, got ${describeValue(rawEntries)}`)
  const seeds = new Set<number>()
  const entries = (rawEntries as Array<unknown>).map((e, i): EvalNoiseEntry => {
    const at = `entries[${i}]`
    if (!isObj(e)) return fail(`${at} must be an object, got ${describeValue(e)}`)
    const evalSeed = num(e["evalSeed"], `${at}.evalSeed`, Rules.count)
    if (seeds.has(evalSeed)) fail(`${at}.evalSeed ${evalSeed} appears twice`)
    seeds.add(evalSeed)
    if (!Array.isArray(e["rows"]) || e["rows"].length === 0) fail(`${at}.rows must be a non-empty array, got ${describeValue(e["rows"])}`)
    const protocols = new Set<string>()
    const rows = (e["rows"] as Array<unknown>).map((r, j): EvalRow => {
      let row: MetricsRow
      try {
        row = toMetricsRow(r)
      } catch (err) {
        if (err instanceof RowShapeError) return fail(`${at}.rows[${j}]: ${err.message}`)
        throw err
      }
      if (row.kind !== "eval") return fail(`${at}.rows[${j}]: kind must be "eval", got "${row.kind}"`)
      if (row.step !== step) fail(`${at}.rows[${j}]: step ${row.step} is not the file's step ${step}`)
      if (protocols.has(row.protocol)) fail(`${at}.rows[${j}]: a second ${row.protocol} row`)
      protocols.add(row.protocol)
      return row
    })
    return { evalSeed, rows }
  })
  if (!Array.isArray(o["summary"])) fail(`summary must be an array, got ${describeValue(o["summary"])}`)
  const summary = (o["summary"] as Array<unknown>).map((s, i): NoiseStat => {
    const at = `summary[${i}]`
    if (!isObj(s)) return fail(`${at} must be an object, got ${describeValue(s)}`)
    const protocol = s["protocol"]
    if (protocol !== "internalization" && protocol !== "transfer") return fail(`${at}.protocol must be "internalization" or "transfer", got ${describeValue(protocol)}`)
    const metric = s["metric"]
    if (!NOISE_METRICS.includes(metric as NoiseMetric)) return fail(`${at}.metric must be one of ${NOISE_METRICS.join(", ")}, got ${describeValue(metric)}`)
    const range = (metric as string).endsWith(".headroom") ? Rules.headroom : Rules.fraction
    const n = num(s["n"], `${at}.n`, Rules.positiveInt)
    if (n !== entries.length) fail(`${at}.n is ${n}, but the file has ${entries.length} entries`)
    const mean = num(s["mean"], `${at}.mean`, range)
    const sd = num(s["sd"], `${at}.sd`, Rules.nonNegative)
    const min = num(s["min"], `${at}.min`, range)
    const max = num(s["max"], `${at}.max`, range)
    // the mean of floats lies within [min, max] up to rounding; the sample SD of n >= 2 values in
    // [min, max] is at most (max − min) · √(n / (4(n − 1))) <= max − min, and 0 for one value
    if (min > mean + 1e-12 || mean > max + 1e-12) fail(`${at}: min ${min}, mean ${mean}, max ${max} are out of order`)
    if (sd > max - min + 1e-12) fail(`${at}.sd ${sd} exceeds max − min = ${max - min}: impossible for values in [min, max]`)
    return { protocol, metric: metric as NoiseMetric, n, mean, sd, min, max }
  })
  const notes = o["notes"] === undefined ? [] : o["notes"]
  if (!Array.isArray(notes) || notes.some((x) => typeof x !== "string")) fail(`notes must be an array of strings, got ${describeValue(notes)}`)
  return { format: EVAL_NOISE_FORMAT, step, ...(memoryStep === undefined ? {} : { memoryStep }), method, seed, resultHash, entries, summary, notes: notes as Array<string> }
}

/** A run directory's eval-noise.json, checked; undefined when it has none. */
export const readEvalNoise = (runDir: string): EvalNoise | undefined => {
  const file = join(runDir, EVAL_NOISE_FILE)
  const text = readIfPresent(file, (message) => new EvalNoiseFileError(file, `cannot read: ${message}`))
  return text === undefined ? undefined : parseEvalNoise(text, file)
}

/** A file's text, or undefined when it does not exist; any other failure is `error(the system's message)`. */
export const readIfPresent = (file: string, error: (message: string) => Error): string | undefined => {
  try {
    return readFileSync(file, "utf8")
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined
    throw error((e as Error).message)
  }
}

/** The result hash in a run's marker, or undefined (no marker, or an unreadable one: then freshness is not judged). */
const markerResultHash = (runDir: string): string | undefined => {
  try {
    const h = (JSON.parse(readFileSync(join(runDir, MARKER_FILE), "utf8")) as { resultHash?: unknown } | null)?.resultHash
    return typeof h === "string" ? h : undefined
  } catch {
    return undefined
  }
}

export interface RunEvalNoise {
  /** the run's name (RunData.name) */
  readonly run: string
  readonly noise: EvalNoise
  /** measured under another config than the run's marker names (the run was redone since): not shown */
  readonly stale: boolean
}

/**
 * The eval-noise.json of every run loaded from `dir` (the run directory itself, or the sweep's run
 * sub-folders, as loadRuns found them), sorted by run name. A damaged file is an EvalNoiseFileError.
 */
export const loadEvalNoise = async (dir: string, runs: ReadonlyArray<RunData>): Promise<Array<RunEvalNoise>> => {
  const single = await isRunDir(dir)
  const out: Array<RunEvalNoise> = []
  for (const run of [...runs].sort((a, b) => compareStrings(a.name, b.name))) {
    const runDir = single ? dir : join(dir, run.name)
    const noise = readEvalNoise(runDir)
    if (noise === undefined) continue
    const current = markerResultHash(runDir)
    out.push({ run: run.name, noise, stale: current !== undefined && current !== noise.resultHash })
  }
  return out
}

// ---------------------------------------------------------------------------------------------------
// study-summary.json: a study's question and its claims' verdicts (`pmdsim study`, src/experiments/study.ts)

export const STUDY_SUMMARY_FILE = "study-summary.json"
export const STUDY_SUMMARY_FORMAT = "pmdsim-study/1"

/** holds: the paired 95% interval of better − worse lies above 0; reversed: below; unresolved: it contains 0 or fewer than 2 seeds pair. */
export type Verdict = "holds" | "reversed" | "unresolved" | "unresolved (n < 2)"
const VERDICTS: ReadonlyArray<Verdict> = ["holds", "reversed", "unresolved", "unresolved (n < 2)"]

/** One claim and its verdict: better − worse on `metric`, paired by seed (fractions, not points; null = undefined). */
export interface StudyClaimResult {
  readonly id: string
  readonly statement: string
  readonly metric: string
  /** the settings' full names ("pmd memory.lag=0") */
  readonly better: string
  readonly worse: string
  readonly verdict: Verdict
  readonly n: number
  readonly seeds: ReadonlyArray<number>
  readonly diffs: ReadonlyArray<number>
  readonly mean: number | null
  readonly half: number | null
  readonly lo: number | null
  readonly hi: number | null
  /** seeds a paired t-test needs for 80% power at the observed difference (paired.ts); null = ∞ */
  readonly seedsNeeded: number | null
}

export interface StudySummary {
  readonly format: typeof STUDY_SUMMARY_FORMAT
  readonly question: string
  readonly claims: ReadonlyArray<StudyClaimResult>
}


/** Parse and check a study-summary.json's text (every field of every claim). */
export const parseStudySummary = (text: string, file: string): StudySummary => {
  const fail = (reason: string): never => {
    throw new StudySummaryFileError(file, reason)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    return fail(`not JSON: ${(e as Error).message}`)
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return fail("must be a JSON object")
  const v = value as Record<string, unknown>
  if (v.format !== STUDY_SUMMARY_FORMAT) fail(`format must be ${JSON.stringify(STUDY_SUMMARY_FORMAT)}, got ${describeValue(v.format)}`)
  if (typeof v.question !== "string") fail(`question must be a string, got ${describeValue(v.question)}`)
  if (!Array.isArray(v.claims)) return fail(`claims must be an array, got ${describeValue(v.claims)}`)
  const claims = (v.claims as Array<unknown>).map((raw, i): StudyClaimResult => {
    const at = `claims[${i}]`
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return fail(`${at} must be an object`)
    const c = raw as Record<string, unknown>
    for (const k of ["id", "statement", "metric", "better", "worse"]) {
      if (typeof c[k] !== "string") fail(`${at}.${k} must be a string, got ${describeValue(c[k])}`)
    }
    if (!VERDICTS.includes(c.verdict as Verdict)) fail(`${at}.verdict must be one of ${VERDICTS.map((x) => JSON.stringify(x)).join(", ")}, got ${describeValue(c.verdict)}`)
    if (typeof c.n !== "number" || !Number.isInteger(c.n) || c.n < 0) fail(`${at}.n must be a non-negative integer, got ${describeValue(c.n)}`)
    for (const k of ["seeds", "diffs"]) {
      if (!Array.isArray(c[k]) || (c[k] as Array<unknown>).some((x) => typeof x !== "number" || !Number.isFinite(x))) fail(`${at}.${k} must be an array of finite numbers`)
    }
    for (const k of ["mean", "half", "lo", "hi", "seedsNeeded"]) {
      if (c[k] !== null && (typeof c[k] !== "number" || !Number.isFinite(c[k]))) fail(`${at}.${k} must be a finite number or null, got ${describeValue(c[k])}`)
    }
    return c as unknown as StudyClaimResult
  })
  return { format: STUDY_SUMMARY_FORMAT, question: v.question as string, claims }
}

/** The study summary of a (study) directory, or undefined when it has none. */
export const readStudySummary = (dir: string): StudySummary | undefined => {
  const file = join(dir, STUDY_SUMMARY_FILE)
  const text = readIfPresent(file, (message) => new StudySummaryFileError(file, `cannot read: ${message}`))
  return text === undefined ? undefined : parseStudySummary(text, file)
}
