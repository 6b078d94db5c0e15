/**
 * Paired statistics: every setting against a baseline setting, seed by seed.
 *
 * Runs of two settings at the same seed share their problem schedule (and every other stream keyed by
 * the seed), so most of the seed-to-seed variation cancels in the per-seed difference. The difference
 * of two settings is therefore judged on the differences d_s = other_s − baseline_s over the seeds s
 * present in both (never on two independent intervals):
 *
 * - mean ± 95% t-interval of the d_s (`meanCI`, Student's t with n − 1 degrees of freedom);
 * - `resolved`: the interval excludes 0 (it needs n ≥ 2);
 * - `seedsNeeded`: the seeds a paired two-sided t-test at α = 0.05 needs for 80% power to detect the
 *   observed mean difference d with the observed SD of differences s_d. Normal approximation first,
 *   n₀ = ((z₀.₉₇₅ + z₀.₈₀) · s_d / d)² with z₀.₉₇₅ = 1.95996, z₀.₈₀ = 0.84162; then the t refinement
 *   used by sample-size tables: the smallest n ≥ max(2, ⌈n₀⌉) with
 *   n ≥ ((t(0.975, n−1) + t(0.80, n−1)) · s_d / d)² (the central-t approximation of the noncentral-t
 *   power; t ≥ z, so no n below n₀ can satisfy it). Undefined (null: "∞") when d = 0 or n < 2;
 *   2 when s_d = 0 and d ≠ 0 (two seeds are the fewest that give an interval).
 * - optionally, a percentile bootstrap interval over seeds: `resamples` resamples of the n differences
 *   with replacement, from a seeded stream of src/core/Rng.ts (never Math.random), the 2.5% and 97.5%
 *   quantiles (linear interpolation between order statistics) of the resampled means.
 *
 * Settings are named as the sweep names them ("pmd memory.lag=2": the method, then `knob=value` for
 * every knob, knobs sorted by name); a baseline name may leave knobs out ("pmd" names the first pmd
 * setting in order).
 */
import type { EvalRow, RunData } from "../protocol/metrics.ts"
import { Rng } from "../core/Rng.ts"
import { compareStrings, meanCI, type Summary, tCritical95 } from "./stats.ts"

// ---------------------------------------------------------------------------------------------------
// Per-run metrics (the sweep aggregate and the report's pairing read the same numbers)

/** The metrics of one run from its eval rows (in file order): final, best, pass@k, greedy, headroom, with memory, per protocol. */
export const runMetrics = (rows: ReadonlyArray<EvalRow>): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const protocol of ["internalization", "transfer"] as const) {
    const mine = rows.filter((e) => e.protocol === protocol)
    if (mine.length === 0) continue
    const last = mine[mine.length - 1]!
    out[`${protocol} avg@k`] = last.memoryFree.avgAtK
    out[`${protocol} best avg@k`] = Math.max(...mine.filter((e) => e.step > 0).map((e) => e.memoryFree.avgAtK))
    out[`${protocol} pass@k`] = last.memoryFree.passAtK
    out[`${protocol} greedy`] = last.memoryFree.greedy
    out[`${protocol} headroom`] = last.memoryFree.headroom
    if (last.memoryAugmented !== null) out[`${protocol} with memory`] = last.memoryAugmented.avgAtK
  }
  return out
}

/** The metrics the report's and the console's paired tables show (sweep-summary.json keeps every metric). */
export const PAIRED_METRICS: ReadonlyArray<string> = [
  "internalization avg@k", "internalization best avg@k", "transfer avg@k", "internalization headroom", "internalization with memory"
]

/** Every metric `runMetrics` gives, per protocol: what a study's claim may be about. */
export const RUN_METRICS: ReadonlyArray<string> = (["internalization", "transfer"] as const).flatMap((p) =>
  ["avg@k", "best avg@k", "pass@k", "greedy", "headroom", "with memory"].map((m) => `${p} ${m}`))

// ---------------------------------------------------------------------------------------------------
// Setting names

export type Knobs = Readonly<Record<string, string | number | boolean>>

/** "method k1=v1 k2=v2": the sweep's name of a setting, knobs sorted by name. */
export const settingName = (method: string, knobs: Knobs): string =>
  [method, ...Object.keys(knobs).sort(compareStrings).map((k) => `${k}=${String(knobs[k])}`)].join(" ")

/** Parse a setting name into the method and the knob values it names (as strings). */
export const parseSettingName = (name: string): { method: string; knobs: Record<string, string> } => {
  const [method = "", ...rest] = name.trim().split(/\s+/)
  const knobs: Record<string, string> = {}
  let key: string | undefined
  for (const part of rest) {
    const eq = part.indexOf("=")
    // a part without "=" continues the previous value (a string knob value with spaces)
    if (eq <= 0 && key !== undefined) knobs[key] = `${knobs[key]} ${part}`
    else {
      key = part.slice(0, eq)
      knobs[key] = part.slice(eq + 1)
    }
  }
  return { method, knobs }
}

/** Does a setting (method and knob values) answer to `name`: the same method, and every knob `name` gives has that value. */
export const matchesSetting = (name: string, method: string, knobs: Knobs): boolean => {
  const want = parseSettingName(name)
  return want.method === method && Object.entries(want.knobs).every(([k, v]) => knobs[k] !== undefined && String(knobs[k]) === v)
}

// ---------------------------------------------------------------------------------------------------
// Statistics

/** One-sided t(0.80, df) for df = 1..30, then 40, 60, 120; df between entries uses the next lower one (conservative). */
const T80_TABLE: ReadonlyArray<readonly [number, number]> = [
  [1, 1.376], [2, 1.061], [3, 0.978], [4, 0.941], [5, 0.92], [6, 0.906], [7, 0.896], [8, 0.889], [9, 0.883],
  [10, 0.879], [11, 0.876], [12, 0.873], [13, 0.87], [14, 0.868], [15, 0.866], [16, 0.865], [17, 0.863],
  [18, 0.862], [19, 0.861], [20, 0.86], [21, 0.859], [22, 0.858], [23, 0.858], [24, 0.857], [25, 0.856],
  [26, 0.856], [27, 0.855], [28, 0.855], [29, 0.854], [30, 0.854], [40, 0.851], [60, 0.848], [120, 0.845]
]
const Z_975 = 1.959964
const Z_80 = 0.841621

/** t(0.80, df); past the table, the normal 0.8416. */
export const tCritical80 = (df: number): number => {
  if (df < 1) return Infinity
  if (df > 120) return Z_80
  let t = Infinity
  for (const [d, v] of T80_TABLE) if (d <= df) t = v
  return t
}

/** Seeds a paired t-test (two-sided α = 0.05) needs for 80% power at mean difference d and SD s_d (see the header); null = ∞. */
export const seedsToResolve = (d: number, sd: number, n: number): number | null => {
  if (n < 2 || d === 0 || !Number.isFinite(d) || !Number.isFinite(sd)) return null
  if (sd === 0) return 2
  const ratio = sd / Math.abs(d)
  const n0 = ((Z_975 + Z_80) * ratio) ** 2
  if (!Number.isFinite(n0) || n0 > 1e9) return null
  // past df 120 both quantiles are the normal ones, so the search ends within ~120 steps of ⌈n₀⌉
  for (let m = Math.max(2, Math.ceil(n0)); ; m++) {
    if (m >= ((tCritical95(m - 1) + tCritical80(m - 1)) * ratio) ** 2) return m
  }
}

export interface BootstrapOptions {
  /** resamples of the seeds (default 2000) */
  readonly resamples?: number
  /** the stream's seed (default 0): the interval is a pure function of the differences and this seed */
  readonly seed?: number
}

/** Quantile q of sorted values, linear interpolation between order statistics (R's type 7). */
const quantileSorted = (sorted: ReadonlyArray<number>, q: number): number => {
  const h = (sorted.length - 1) * q
  const lo = Math.floor(h)
  const hi = Math.min(lo + 1, sorted.length - 1)
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!)
}

/** Percentile bootstrap 95% interval of the mean of `values` (resampled with replacement, seeded). */
export const bootstrapInterval = (values: ReadonlyArray<number>, options: BootstrapOptions = {}): { lo: number; hi: number; resamples: number } => {
  const resamples = options.resamples ?? 2000
  const n = values.length
  if (n === 0) return { lo: NaN, hi: NaN, resamples }
  const rng = Rng.at(["report/paired-bootstrap", options.seed ?? 0])
  const means: Array<number> = []
  for (let b = 0; b < resamples; b++) {
    let sum = 0
    for (let i = 0; i < n; i++) sum += values[rng.int(0, n - 1)]!
    means.push(sum / n)
  }
  means.sort((a, b) => a - b)
  return { lo: quantileSorted(means, 0.025), hi: quantileSorted(means, 0.975), resamples }
}

/** The mean ± 95% t-interval of the per-seed differences (stats.ts Summary: sd is 0 when n = 1), and more. */
export interface PairedSummary extends Summary {
  /** seeds present in both settings, ascending, and the difference (other − baseline) at each */
  readonly seeds: ReadonlyArray<number>
  readonly diffs: ReadonlyArray<number>
  /** the 95% interval excludes 0 */
  readonly resolved: boolean
  /** seeds needed for 80% power at the observed difference; null = undefined / ∞ (d = 0 or n < 2) */
  readonly seedsNeeded: number | null
  readonly bootstrap?: { readonly lo: number; readonly hi: number; readonly resamples: number }
}

export interface PairOptions {
  /** add a percentile bootstrap interval (off by default) */
  readonly bootstrap?: BootstrapOptions | undefined
}

/** Paired difference other − baseline over the seeds both have a (finite) value for; null when they share none. */
export const pairedDifference = (
  baseline: ReadonlyMap<number, number>, other: ReadonlyMap<number, number>, options: PairOptions = {}
): PairedSummary | null => {
  const seeds = [...other.keys()].filter((s) => {
    const a = baseline.get(s)
    const b = other.get(s)
    return a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b)
  }).sort((a, b) => a - b)
  if (seeds.length === 0) return null
  const diffs = seeds.map((s) => other.get(s)! - baseline.get(s)!)
  const s = meanCI(diffs, "paired differences")
  return {
    seeds, diffs, n: s.n, mean: s.mean, sd: s.sd, half: s.half, lo: s.lo, hi: s.hi,
    resolved: s.n >= 2 && (s.lo > 0 || s.hi < 0),
    seedsNeeded: seedsToResolve(s.mean, s.sd, s.n),
    ...(options.bootstrap === undefined ? {} : { bootstrap: bootstrapInterval(diffs, options.bootstrap) })
  }
}

// ---------------------------------------------------------------------------------------------------
// Settings against a baseline

/** A setting's runs reduced to per-seed metrics (several runs at one seed: their mean). */
export interface SeedMetrics {
  readonly name: string
  readonly method: string
  readonly knobs: Knobs
  readonly perSeed: ReadonlyMap<number, Readonly<Record<string, number>>>
}

export interface PairedRow {
  readonly setting: string
  /** per metric: the paired difference against the baseline (metrics without common seeds left out) */
  readonly cells: Readonly<Record<string, PairedSummary>>
}

export interface PairedTable {
  readonly baseline: string
  /** set when the requested baseline named no setting, so the first setting was used instead */
  readonly requested?: string
  readonly rows: ReadonlyArray<PairedRow>
}

/** Per-seed metrics of a setting's runs, from each run's metrics (runs at the same seed averaged, in the given order). */
export const seedMetrics = (
  name: string, method: string, knobs: Knobs, runs: ReadonlyArray<{ readonly seed: number; readonly metrics: Readonly<Record<string, number>> }>
): SeedMetrics => {
  const bySeed = new Map<number, Array<Readonly<Record<string, number>>>>()
  for (const r of runs) bySeed.set(r.seed, [...(bySeed.get(r.seed) ?? []), r.metrics])
  const perSeed = new Map<number, Record<string, number>>()
  for (const [seed, ms] of [...bySeed.entries()].sort(([a], [b]) => a - b)) {
    const keys = [...new Set(ms.flatMap((m) => Object.keys(m)))].sort(compareStrings)
    const avg: Record<string, number> = {}
    for (const k of keys) {
      const vs = ms.flatMap((m) => (m[k] === undefined ? [] : [m[k]!]))
      avg[k] = vs.reduce((a, b) => a + b, 0) / vs.length
    }
    perSeed.set(seed, avg)
  }
  return { name, method, knobs, perSeed }
}

/** The setting `baseline` names (the first that matches, in the given order), else the first setting. */
export const pickBaseline = (settings: ReadonlyArray<SeedMetrics>, baseline: string | undefined): { index: number; found: boolean } => {
  if (baseline === undefined) return { index: 0, found: true }
  const exact = settings.findIndex((s) => s.name === baseline)
  if (exact >= 0) return { index: exact, found: true }
  const i = settings.findIndex((s) => matchesSetting(baseline, s.method, s.knobs))
  return i >= 0 ? { index: i, found: true } : { index: 0, found: false }
}

/** Every setting but the baseline against it, metric by metric (`metrics`: which; default every metric either has). */
export const pairAgainstBaseline = (
  settings: ReadonlyArray<SeedMetrics>, baseline: string | undefined, options: PairOptions & { readonly metrics?: ReadonlyArray<string> } = {}
): PairedTable | null => {
  if (settings.length === 0) return null
  const pick = pickBaseline(settings, baseline)
  const base = settings[pick.index]!
  const column = (s: SeedMetrics, metric: string): Map<number, number> =>
    new Map([...s.perSeed.entries()].flatMap(([seed, m]) => (m[metric] === undefined ? [] : [[seed, m[metric]!] as const])))
  const rows = settings.filter((_, i) => i !== pick.index).map((s) => {
    const metrics = options.metrics ??
      [...new Set([...s.perSeed.values(), ...base.perSeed.values()].flatMap((m) => Object.keys(m)))].sort(compareStrings)
    const cells: Record<string, PairedSummary> = {}
    for (const metric of metrics) {
      const p = pairedDifference(column(base, metric), column(s, metric), options)
      if (p !== null) cells[metric] = p
    }
    return { setting: s.name, cells }
  })
  return { baseline: base.name, ...(pick.found ? {} : { requested: baseline! }), rows }
}

/** Runs (report input) grouped as settings, each run's metrics from its eval rows. */
export const seedMetricsOfRuns = (
  groups: ReadonlyArray<{ readonly key: string; readonly items: ReadonlyArray<RunData> }>
): Array<SeedMetrics> =>
  groups.map((g) => {
    const first = g.items[0]!
    // the name answers to the sweep's spelling (every knob of the setting's runs), the label is the report's
    const knobs = Object.fromEntries(Object.keys(first.knobs).filter((k) => g.items.every((r) => r.knobs[k] === first.knobs[k])).map((k) => [k, first.knobs[k]!]))
    const runs = g.items.map((r) => ({ seed: r.seed, metrics: runMetrics(r.rows.filter((x): x is EvalRow => x.kind === "eval")) }))
    return { ...seedMetrics(g.key, first.method, knobs, runs) }
  })

// ---------------------------------------------------------------------------------------------------
// Text

/** "+1.9 ± 3.0" in percentage points (a difference, so always signed). */
export const formatPoints = (mean: number, half: number, n: number): string => {
  const m = `${mean * 100 >= 0 ? "+" : "−"}${Math.abs(mean * 100).toFixed(1)}`
  return n > 1 ? `${m} ± ${(half * 100).toFixed(1)}` : m
}

export const formatNeeded = (p: PairedSummary): string => (p.seedsNeeded === null ? "∞" : String(p.seedsNeeded))

/** The console's paired table: per setting and metric, mean ± CI in points, `*` when resolved, and the seeds needed. */
export const formatPairedTable = (table: PairedTable, columns: ReadonlyArray<string>): string => {
  const head = ["setting", ...columns]
  const body = table.rows.map((r) => [r.setting, ...columns.map((c) => {
    const p = r.cells[c]
    return p === undefined ? "-" : `${formatPoints(p.mean, p.half, p.n)}${p.resolved ? " *" : ""} (n ${p.n}, need ${formatNeeded(p)})`
  })])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ")
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n")
}
