/**
 * CSV export of every metric: one table of train rows, one of eval rows, for analysis outside the report
 * (pandas, R, a spreadsheet).
 *
 * Nested fields are flattened into dotted columns (`memorySizes.behaviors`, `memoryFree.avgAtK`,
 * `stageMs.sample`); knobs become `knob.<name>` columns. Rows are sorted by run name, then step (then
 * protocol). Numbers are written in JavaScript's shortest round-trip form, an absent value (a knob a
 * run does not set, memoryAugmented = null) as an empty field. Quoting and line endings follow RFC 4180.
 */
import type { AccuracyAtK, EvalRow, RunData, TrainRow } from "../protocol/metrics.ts"
import { compareStrings } from "./stats.ts"

type Cell = string | number | boolean | null | undefined

/** One RFC 4180 field: quoted (with doubled quotes) when it holds a comma, a quote, CR or LF. */
export const csvField = (value: Cell): string => {
  if (value === null || value === undefined) return ""
  const s = String(value)
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/** A whole CSV document: header, then rows, each line ending in CRLF. */
export const toCsv = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<Cell>>): string =>
  [header, ...rows].map((r) => r.map(csvField).join(",") + "\r\n").join("")

interface Column<R> {
  readonly name: string
  readonly get: (row: R) => Cell
}

const sortedRuns = (runs: ReadonlyArray<RunData>): Array<RunData> => [...runs].sort((a, b) => compareStrings(a.name, b.name))

const knobNames = (runs: ReadonlyArray<RunData>): Array<string> =>
  [...new Set(runs.flatMap((r) => Object.keys(r.knobs)))].sort(compareStrings)

const runColumns = (runs: ReadonlyArray<RunData>): Array<Column<RunData>> => [
  { name: "run", get: (r) => r.name },
  { name: "method", get: (r) => r.method },
  { name: "seed", get: (r) => r.seed },
  ...knobNames(runs).map((k): Column<RunData> => ({ name: `knob.${k}`, get: (r) => r.knobs[k] }))
]

const TRAIN_FIELDS = [
  "step", "rewardMean", "loss", "gradNorm", "entropy", "teacherFraction", "everSolved",
  "memoryVersionRead", "memoryVersionNewest", "memoryLag", "rolloutPolicyVersion", "rolloutLag"
] as const satisfies ReadonlyArray<keyof TrainRow>

const ACCURACY_FIELDS = ["k", "avgAtK", "passAtK", "majAtK", "headroom", "greedy"] as const satisfies ReadonlyArray<keyof AccuracyAtK>

const build = <R extends { readonly step: number }>(
  runs: ReadonlyArray<RunData>,
  rowsOf: (run: RunData) => ReadonlyArray<R>,
  columns: ReadonlyArray<Column<R>>,
  tiebreak: (a: R, b: R) => number
): string => {
  const rc = runColumns(runs)
  const out: Array<Array<Cell>> = []
  for (const run of sortedRuns(runs)) {
    const rows = [...rowsOf(run)].sort((a, b) => a.step - b.step || tiebreak(a, b))
    for (const row of rows) out.push([...rc.map((c) => c.get(run)), ...columns.map((c) => c.get(row))])
  }
  return toCsv([...rc.map((c) => c.name), ...columns.map((c) => c.name)], out)
}

const trainRows = (run: RunData): Array<TrainRow> => run.rows.filter((r): r is TrainRow => r.kind === "train")
const evalRows = (run: RunData): Array<EvalRow> => run.rows.filter((r): r is EvalRow => r.kind === "eval")

/** Train rows of every run; stage timings as `stageMs.<stage>` columns (the union over all rows, sorted). */
export const trainCsv = (runs: ReadonlyArray<RunData>): string => {
  const stages = [...new Set(runs.flatMap((r) => trainRows(r).flatMap((t) => Object.keys(t.stageMs))))].sort(compareStrings)
  const columns: Array<Column<TrainRow>> = [
    ...TRAIN_FIELDS.map((f): Column<TrainRow> => ({ name: f, get: (r) => r[f] })),
    { name: "memorySizes.experience", get: (r) => r.memorySizes.experience },
    { name: "memorySizes.insights", get: (r) => r.memorySizes.insights },
    { name: "memorySizes.behaviors", get: (r) => r.memorySizes.behaviors },
    { name: "rolloutsPerSec", get: (r) => r.rolloutsPerSec },
    { name: "tokensPerSec", get: (r) => r.tokensPerSec },
    ...stages.map((s): Column<TrainRow> => ({ name: `stageMs.${s}`, get: (r) => r.stageMs[s] }))
  ]
  return build(runs, trainRows, columns, () => 0)
}

/** Eval rows of every run, one line per (step, protocol); memoryAugmented.* empty when it was not measured. */
export const evalCsv = (runs: ReadonlyArray<RunData>): string => {
  const columns: Array<Column<EvalRow>> = [
    { name: "step", get: (r) => r.step },
    { name: "protocol", get: (r) => r.protocol },
    { name: "problems", get: (r) => r.problems },
    ...ACCURACY_FIELDS.map((f): Column<EvalRow> => ({ name: `memoryFree.${f}`, get: (r) => r.memoryFree[f] })),
    ...ACCURACY_FIELDS.map((f): Column<EvalRow> => ({ name: `memoryAugmented.${f}`, get: (r) => r.memoryAugmented?.[f] }))
  ]
  return build(runs, evalRows, columns, (a, b) => compareStrings(a.protocol, b.protocol))
}
