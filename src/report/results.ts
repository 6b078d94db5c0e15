/**
 * Per-run and per-setting aggregates that the figures and the results table share: final and best-so-far
 * memory-free accuracy, the final test-time scaling figures, and timings.
 *
 * "Final" is the run's last evaluation; "best" is its best evaluation so far (the paper's tables are most
 * likely best-checkpoint values, algorithms.md §1(d), so both are shown). Means and intervals are over
 * the runs (seeds) of a setting.
 */
import type { AccuracyAtK, EvalRow, RunData, TrainRow } from "../protocol/metrics.ts"
import { compareStrings, groupBySetting, meanCI, type Summary } from "./stats.ts"

export const PROTOCOLS = ["internalization", "transfer"] as const
export type Protocol = (typeof PROTOCOLS)[number]

export const trainRowsOf = (run: RunData): Array<TrainRow> =>
  run.rows.filter((r): r is TrainRow => r.kind === "train").sort((a, b) => a.step - b.step)

export const evalRowsOf = (run: RunData, protocol: Protocol): Array<EvalRow> =>
  run.rows.filter((r): r is EvalRow => r.kind === "eval" && r.protocol === protocol).sort((a, b) => a.step - b.step)

/** Knobs whose value is not the same in every run (absent counts as a value): the ones worth naming. */
export const varyingKnobs = (runs: ReadonlyArray<RunData>): Array<string> => {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.knobs)))].sort(compareStrings)
  return names.filter((k) => new Set(runs.map((r) => JSON.stringify(r.knobs[k] ?? null))).size > 1)
}

export interface ProtocolResult {
  readonly final: Summary
  readonly best: Summary
  readonly bestStep: Summary
  /** test-time scaling figures at the final evaluation */
  readonly finalAt: { readonly [K in keyof AccuracyAtK]: Summary }
  readonly augmentedFinal: Summary | null
}

export interface SettingResult {
  readonly label: string
  readonly method: string
  readonly runs: ReadonlyArray<RunData>
  readonly protocols: Partial<Record<Protocol, ProtocolResult>>
  /** mean ms per step of each stage (mean over runs of the per-run mean), stages sorted */
  readonly stageMs: ReadonlyArray<readonly [stage: string, ms: number]>
  readonly rolloutsPerSec: number | null
  readonly tokensPerSec: number | null
}

const summarise = <T>(items: ReadonlyArray<T>, f: (t: T) => number, what: string): Summary => meanCI(items.map(f), what)

const protocolResult = (runs: ReadonlyArray<RunData>, protocol: Protocol, label: string): ProtocolResult | null => {
  const evals = runs.map((r) => evalRowsOf(r, protocol)).filter((rows) => rows.length > 0)
  if (evals.length === 0) return null
  const last = evals.map((rows) => rows[rows.length - 1]!)
  const bestOf = evals.map((rows) =>
    rows.reduce((b, r) => (r.memoryFree.avgAtK > b.memoryFree.avgAtK ? r : b), rows[0]!)
  )
  const what = `${label} ${protocol}`
  const fin = (k: keyof AccuracyAtK): Summary => summarise(last, (r) => r.memoryFree[k], what)
  const aug = last.flatMap((r) => (r.memoryAugmented ? [r.memoryAugmented.avgAtK] : []))
  return {
    final: fin("avgAtK"),
    best: summarise(bestOf, (r) => r.memoryFree.avgAtK, what),
    bestStep: summarise(bestOf, (r) => r.step, what),
    finalAt: {
      k: fin("k"), avgAtK: fin("avgAtK"), passAtK: fin("passAtK"), majAtK: fin("majAtK"),
      headroom: fin("headroom"), greedy: fin("greedy")
    },
    augmentedFinal: aug.length > 0 ? meanCI(aug, what) : null
  }
}

const perRunMean = (rows: ReadonlyArray<TrainRow>, f: (r: TrainRow) => number | undefined): number | null => {
  const xs = rows.map(f).filter((x): x is number => x !== undefined)
  return xs.length === 0 ? null : meanCI(xs).mean
}

const meanOverRuns = (runs: ReadonlyArray<RunData>, f: (r: TrainRow) => number | undefined): number | null => {
  const xs = runs.map((run) => perRunMean(trainRowsOf(run), f)).filter((x): x is number => x !== null)
  return xs.length === 0 ? null : meanCI(xs).mean
}

/** One SettingResult per setting (method + varying knobs), in setting order. */
export const settingResults = (runs: ReadonlyArray<RunData>): Array<SettingResult> => {
  const knobs = varyingKnobs(runs)
  return groupBySetting(runs, knobs).map((g) => {
    const protocols: Partial<Record<Protocol, ProtocolResult>> = {}
    for (const p of PROTOCOLS) {
      const r = protocolResult(g.items, p, g.key)
      if (r) protocols[p] = r
    }
    const stages = [...new Set(g.items.flatMap((run) => trainRowsOf(run).flatMap((t) => Object.keys(t.stageMs))))].sort(compareStrings)
    const stageMs = stages.flatMap((s) => {
      const ms = meanOverRuns(g.items, (t) => t.stageMs[s])
      return ms === null ? [] : [[s, ms] as const]
    })
    return {
      label: g.key,
      method: g.items[0]!.method,
      runs: g.items,
      protocols,
      stageMs,
      rolloutsPerSec: meanOverRuns(g.items, (t) => t.rolloutsPerSec),
      tokensPerSec: meanOverRuns(g.items, (t) => t.tokensPerSec)
    }
  })
}
