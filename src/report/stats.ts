/**
 * Means and 95% confidence intervals over seeds, and the groupings the report takes them over.
 *
 * The interval is Student's t: mean ± t(0.975, n-1) · sd / √n, with sd the sample standard deviation
 * (n-1 denominator). Seeds are few (2-5), where t is far wider than the normal 1.96, so the table
 * matters. Degrees of freedom between tabulated values use the next lower entry (a slightly wider,
 * conservative interval). n = 1 gives a zero-width interval: one seed says nothing about spread, and
 * the report shows n beside every interval so that a reader is not misled by it.
 *
 * Every grouping returns its groups in a fixed order (never insertion or hash order), so that the
 * report is a pure function of the run data.
 */
import { EmptySampleError } from "./errors.ts"
import type { RunData } from "../protocol/metrics.ts"

/** Two-sided 95% critical values t(0.975, df) for df = 1..30, then 40, 60, 120. */
const T_TABLE: ReadonlyArray<readonly [number, number]> = [
  [1, 12.706], [2, 4.303], [3, 3.182], [4, 2.776], [5, 2.571], [6, 2.447], [7, 2.365], [8, 2.306],
  [9, 2.262], [10, 2.228], [11, 2.201], [12, 2.179], [13, 2.16], [14, 2.145], [15, 2.131], [16, 2.12],
  [17, 2.11], [18, 2.101], [19, 2.093], [20, 2.086], [21, 2.08], [22, 2.074], [23, 2.069], [24, 2.064],
  [25, 2.06], [26, 2.056], [27, 2.052], [28, 2.048], [29, 2.045], [30, 2.042], [40, 2.021], [60, 2.0],
  [120, 1.98]
]
const Z_975 = 1.96

/** t(0.975, df); df < 1 has no interval (0: the n = 1 case); past the table, the normal 1.96. */
export const tCritical95 = (df: number): number => {
  if (df < 1) return 0
  if (df > 120) return Z_975
  let t = 0
  for (const [d, v] of T_TABLE) if (d <= df) t = v
  return t
}

export interface Summary {
  readonly n: number
  readonly mean: number
  /** sample standard deviation (0 when n = 1) */
  readonly sd: number
  /** half-width of the 95% interval */
  readonly half: number
  readonly lo: number
  readonly hi: number
}

/** Mean and 95% t-interval of a non-empty sample. Summation runs in the given order (callers fix it). */
export const meanCI = (values: ReadonlyArray<number>, what = "sample"): Summary => {
  const n = values.length
  if (n === 0) throw new EmptySampleError(what)
  let sum = 0
  for (const v of values) sum += v
  const mean = sum / n
  let ss = 0
  for (const v of values) ss += (v - mean) * (v - mean)
  const sd = n > 1 ? Math.sqrt(ss / (n - 1)) : 0
  const half = n > 1 ? (tCritical95(n - 1) * sd) / Math.sqrt(n) : 0
  return { n, mean, sd, half, lo: mean - half, hi: mean + half }
}

// ---------------------------------------------------------------------------------------------------
// Groupings

export interface Group<K, T> {
  readonly key: K
  readonly items: ReadonlyArray<T>
}

/** Code-unit order: the same in every locale and runtime (localeCompare is not). */
export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** Group items by a key; groups sorted by key (numbers numerically, strings by code unit), items keep input order. */
export const groupBy = <T, K extends string | number>(
  items: ReadonlyArray<T>,
  key: (item: T) => K,
  compare: (a: K, b: K) => number = (a, b) =>
    typeof a === "number" && typeof b === "number" ? a - b : compareStrings(String(a), String(b))
): Array<Group<K, T>> => {
  const map = new Map<K, Array<T>>()
  for (const item of items) {
    const k = key(item)
    const bucket = map.get(k)
    if (bucket) bucket.push(item)
    else map.set(k, [item])
  }
  return [...map.entries()].sort(([a], [b]) => compare(a, b)).map(([k, v]) => ({ key: k, items: v }))
}

/** Methods in the paper's order (its tables list them so); unknown methods follow, by name. */
const METHOD_ORDER: ReadonlyArray<string> = [
  "base", "frozen-policy", "frozen-memory", "grpo", "sdpo", "pmd-transient", "pmd"
]
const methodRank = (method: string): number => {
  const i = METHOD_ORDER.indexOf(method.toLowerCase())
  return i === -1 ? METHOD_ORDER.length : i
}
export const compareMethods = (a: string, b: string): number =>
  methodRank(a) - methodRank(b) || compareStrings(a, b)

/** Group runs by method, in the paper's method order. */
export const groupByMethod = (runs: ReadonlyArray<RunData>): Array<Group<string, RunData>> =>
  groupBy(runs, (r) => r.method, compareMethods)

/** `name=value` pairs of a run's knobs, sorted by name; the empty string when it has none. */
export const knobsLabel = (knobs: RunData["knobs"], only?: ReadonlyArray<string>): string =>
  Object.keys(knobs)
    .filter((k) => only === undefined || only.includes(k))
    .sort(compareStrings)
    .map((k) => `${k}=${String(knobs[k])}`)
    .join(", ")

/** A setting: the method and the knob values that tell runs apart; its runs are the seeds of one configuration. */
export const settingLabel = (run: RunData, only?: ReadonlyArray<string>): string => {
  const knobs = knobsLabel(run.knobs, only)
  return knobs === "" ? run.method : `${run.method} · ${knobs}`
}

/**
 * Group runs by setting (method and knob values), methods in paper order, then knob values in order
 * (numbers numerically). `only` restricts the knobs that count (the rest are pooled).
 */
export const groupBySetting = (
  runs: ReadonlyArray<RunData>,
  only?: ReadonlyArray<string>
): Array<Group<string, RunData>> => {
  const firstOf = new Map<string, RunData>()
  for (const r of runs) if (!firstOf.has(settingLabel(r, only))) firstOf.set(settingLabel(r, only), r)
  const compareSettings = (a: string, b: string): number => {
    const ra = firstOf.get(a)!
    const rb = firstOf.get(b)!
    const m = compareMethods(ra.method, rb.method)
    if (m !== 0) return m
    const names = [...new Set([...Object.keys(ra.knobs), ...Object.keys(rb.knobs)])]
      .filter((k) => only === undefined || only.includes(k))
      .sort(compareStrings)
    for (const k of names) {
      const c = compareKnobValues(ra.knobs[k], rb.knobs[k])
      if (c !== 0) return c
    }
    return compareStrings(a, b)
  }
  return groupBy(runs, (r) => settingLabel(r, only), compareSettings)
}

/** Knob values: absent first, then numbers numerically, then booleans, then strings. */
export const compareKnobValues = (a: string | number | boolean | undefined, b: string | number | boolean | undefined): number => {
  const rank = (v: typeof a): number => (v === undefined ? 0 : typeof v === "number" ? 1 : typeof v === "boolean" ? 2 : 3)
  const d = rank(a) - rank(b)
  if (d !== 0) return d
  if (typeof a === "number" && typeof b === "number") return a - b
  return compareStrings(String(a), String(b))
}

export interface StepSummary extends Summary {
  readonly step: number
}

/**
 * A curve over seeds: each run gives (step, value) points; at every step any run reports, the mean and
 * interval over the runs that report it. Runs are taken in the order given (callers sort them by name).
 */
export const curveOverSeeds = <R>(
  runs: ReadonlyArray<R>,
  points: (run: R) => ReadonlyArray<readonly [step: number, value: number]>
): Array<StepSummary> => {
  const all: Array<readonly [number, number]> = []
  for (const r of runs) for (const p of points(r)) all.push(p)
  return groupBy(all, ([step]) => step).map((g) => ({
    step: g.key,
    ...meanCI(g.items.map(([, v]) => v), `step ${g.key}`)
  }))
}
