/**
 * Studies as data: a sweep, the question it answers and the claims it tests (issue #14, item 3).
 *
 * Study file (studies/NAME.json):
 *   { "question": "...", "sweep": <sweep file, see sweep.ts>,
 *     "claims": [ { "id": "pmd>grpo", "statement": "PMD beats GRPO", "metric": "internalization avg@k",
 *                   "better": "pmd", "worse": "grpo" } ] }
 * A claim says `better` > `worse` on `metric` (one of RUN_METRICS). Both must name exactly one setting
 * of the sweep's plan ("pmd", or "pmd memory.lag=0" when the sweep has knobs): a name that matches no
 * setting, or several, is refused before anything runs, so a claim never silently compares other runs.
 *
 * Verdicts (pure): the paired difference better − worse over the seeds both settings finished
 * (pairedDifference, src/report/paired.ts): "holds" when the 95% t-interval lies above 0, "reversed"
 * when below, "unresolved" when it contains 0, "unresolved (n < 2)" when fewer than two seeds pair.
 */
import { Schema } from "effect"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { writeFileDurable } from "../core/durableFile.ts"
import { parseMetricsFile, STUDY_SUMMARY_FILE, STUDY_SUMMARY_FORMAT, type StudyClaimResult, type StudySummary, type Verdict } from "../report/load.ts"
import { formatPoints, matchesSetting, pairedDifference, type PairedSummary, RUN_METRICS, runMetrics, type SeedMetrics, seedMetrics, settingName } from "../report/paired.ts"
import type { EvalRow } from "../protocol/metrics.ts"
import { FILES } from "./runDir.ts"
import { type PlannedRun, planSweep, SweepSpec } from "./sweep.ts"

export class StudyConfigError extends Schema.TaggedError<StudyConfigError>()("StudyConfigError", { message: Schema.String }) {}

export const Claim = Schema.Struct({
  id: Schema.String.check(Schema.isNonEmpty()),
  statement: Schema.String,
  metric: Schema.String.check(Schema.makeFilter((m) => RUN_METRICS.includes(m) || `metric must be one of ${RUN_METRICS.map((x) => JSON.stringify(x)).join(", ")}`)),
  /** the setting the claim says is higher on `metric` */
  better: Schema.String,
  worse: Schema.String
})
export type Claim = typeof Claim.Type

export const StudySpec = Schema.Struct({
  question: Schema.String,
  sweep: SweepSpec,
  claims: Schema.Array(Claim).check(Schema.isMinLength(1))
})
export type StudySpec = typeof StudySpec.Type

/** The plan's settings: name ("method k=v ...", knobs sorted) with its method and knob values, in plan order. */
const planSettings = (plan: ReadonlyArray<PlannedRun>): Array<{ name: string; method: string; knobs: PlannedRun["knobs"] }> => {
  const seen = new Map<string, { name: string; method: string; knobs: PlannedRun["knobs"] }>()
  for (const r of plan) {
    const name = settingName(r.method, r.knobs)
    if (!seen.has(name)) seen.set(name, { name, method: r.method, knobs: r.knobs })
  }
  return [...seen.values()]
}

/** The one setting `name` denotes (exact name, else the only one it matches); otherwise a message saying why not. */
const resolveSetting = (name: string, settings: ReadonlyArray<{ name: string; method: string; knobs: PlannedRun["knobs"] }>): string | { problem: string } => {
  if (settings.some((s) => s.name === name)) return name
  const matches = settings.filter((s) => matchesSetting(name, s.method, s.knobs))
  if (matches.length === 1) return matches[0]!.name
  return matches.length === 0
    ? { problem: `names no setting of the sweep (settings: ${settings.map((s) => JSON.stringify(s.name)).join(", ")})` }
    : { problem: `names ${matches.length} settings (${matches.map((s) => JSON.stringify(s.name)).join(", ")}): add knob=value pairs to name one` }
}

/** A claim with its settings resolved to the plan's full setting names. */
export interface ResolvedClaim extends Claim {
  readonly betterSetting: string
  readonly worseSetting: string
}

/** Decode and check a study (unknown fields refused; every claim's settings in the plan, each naming one setting). */
export const decodeStudy = (raw: unknown, source: string): { spec: StudySpec; plan: Array<PlannedRun>; claims: Array<ResolvedClaim> } => {
  let spec: StudySpec
  try {
    spec = Schema.decodeUnknownSync(StudySpec, { onExcessProperty: "error", errors: "all" })(raw)
  } catch (e) {
    throw new StudyConfigError({ message: `invalid study file ${source}:\n${(e as Error).message}` })
  }
  const ids = new Set<string>()
  for (const c of spec.claims) {
    if (ids.has(c.id)) throw new StudyConfigError({ message: `invalid study file ${source}: claim ${JSON.stringify(c.id)} appears twice` })
    ids.add(c.id)
  }
  const plan = planSweep(spec.sweep)
  const settings = planSettings(plan)
  const problems: Array<string> = []
  const claims = spec.claims.map((c) => {
    const better = resolveSetting(c.better, settings)
    const worse = resolveSetting(c.worse, settings)
    if (typeof better !== "string") problems.push(`claim ${JSON.stringify(c.id)}: better ${JSON.stringify(c.better)} ${better.problem}`)
    if (typeof worse !== "string") problems.push(`claim ${JSON.stringify(c.id)}: worse ${JSON.stringify(c.worse)} ${worse.problem}`)
    if (typeof better === "string" && better === worse) problems.push(`claim ${JSON.stringify(c.id)}: better and worse are the same setting ${JSON.stringify(better)}`)
    return { ...c, betterSetting: typeof better === "string" ? better : "", worseSetting: typeof worse === "string" ? worse : "" }
  })
  if (problems.length > 0) throw new StudyConfigError({ message: `invalid study file ${source}:\n${problems.map((p) => `  ${p}`).join("\n")}` })
  return { spec, plan, claims }
}

/**
 * A study file, decoded and checked. `seeds`: run it on these seeds instead of its own (`pmdsim study
 * --seeds`): the same settings and claims, re-checked on seeds the study was not written on.
 */
export const readStudyFile = (file: string, seeds?: ReadonlyArray<number>): ReturnType<typeof decodeStudy> => {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(file, "utf8"))
  } catch (e) {
    throw new StudyConfigError({ message: `cannot read study file ${file}: ${(e as Error).message}` })
  }
  const study = typeof raw === "object" && raw !== null ? (raw as { readonly sweep?: unknown }) : null
  const reseeded = seeds === undefined || study === null || typeof study.sweep !== "object" || study.sweep === null
    ? raw
    : { ...study, sweep: { ...study.sweep, seeds } }
  return decodeStudy(reseeded, seeds === undefined ? file : `${file} (with --seeds ${seeds.join(",")})`)
}

/** The most seeds `--seeds` takes (each one a run per setting). */
const MAX_SEEDS = 1000

/**
 * `--seeds` as a list: comma-separated seeds and inclusive ranges ("511-520", "1,4,9", "1-3,7"), each a
 * non-negative integer, none twice.
 */
export const parseSeedList = (text: string): Array<number> => {
  const bad = (why: string) => new StudyConfigError({ message: `--seeds ${JSON.stringify(text)}: ${why} (e.g. 511-520 or 1,4,9)` })
  const seeds: Array<number> = []
  for (const part of text.split(",")) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part)
    if (m === null) throw bad(`${JSON.stringify(part)} is neither a seed nor a range lo-hi`)
    const lo = Number(m[1])
    const hi = m[2] === undefined ? lo : Number(m[2])
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi)) throw bad(`${JSON.stringify(part)} is too large`)
    if (hi < lo) throw bad(`the range ${lo}-${hi} is empty`)
    if (seeds.length + hi - lo + 1 > MAX_SEEDS) throw bad(`more than ${MAX_SEEDS} seeds`)
    for (let s = lo; s <= hi; s++) seeds.push(s)
  }
  const twice = seeds.find((s, i) => seeds.indexOf(s) !== i)
  if (twice !== undefined) throw bad(`seed ${twice} appears twice`)
  return seeds
}

// ---------------------------------------------------------------------------------------------------
// Verdicts

/** The verdict of a paired difference better − worse (null: no seed pairs). */
export const verdictOf = (p: PairedSummary | null): Verdict =>
  p === null || p.n < 2 ? "unresolved (n < 2)" : p.lo > 0 ? "holds" : p.hi < 0 ? "reversed" : "unresolved"

/** Each claim judged on the settings' per-seed metrics (settings keyed by their full name). Pure. */
export const judgeClaims = (claims: ReadonlyArray<ResolvedClaim>, settings: ReadonlyMap<string, SeedMetrics>): Array<StudyClaimResult> =>
  claims.map((c) => {
    const column = (name: string): Map<number, number> =>
      new Map([...(settings.get(name)?.perSeed ?? new Map()).entries()].flatMap(([seed, m]) => (m[c.metric] === undefined ? [] : [[seed, m[c.metric]!] as const])))
    const p = pairedDifference(column(c.worseSetting), column(c.betterSetting))
    const num = (x: number | undefined): number | null => (x === undefined || !Number.isFinite(x) ? null : x)
    return {
      id: c.id, statement: c.statement, metric: c.metric, better: c.betterSetting, worse: c.worseSetting,
      verdict: verdictOf(p), n: p?.n ?? 0, seeds: p?.seeds ?? [], diffs: p?.diffs ?? [],
      mean: num(p?.mean), half: p === null || p.n < 2 ? null : num(p.half), lo: p === null || p.n < 2 ? null : num(p.lo),
      hi: p === null || p.n < 2 ? null : num(p.hi), seedsNeeded: p?.seedsNeeded ?? null
    }
  })

/** Per-seed metrics of every setting from the runs of `plan` that finished (a summary.json) in `dir`. */
export const finishedSettings = (plan: ReadonlyArray<PlannedRun>, dir: string): Map<string, SeedMetrics> => {
  const groups = new Map<string, { method: string; knobs: PlannedRun["knobs"]; runs: Array<{ seed: number; metrics: Record<string, number> }> }>()
  for (const r of plan) {
    const name = settingName(r.method, r.knobs)
    const g = groups.get(name) ?? { method: r.method, knobs: r.knobs, runs: [] }
    groups.set(name, g)
    const runDir = join(dir, r.name)
    if (!existsSync(join(runDir, FILES.summary))) continue
    const rows = parseMetricsFile(join(runDir, FILES.metrics)).filter((x): x is EvalRow => x.kind === "eval")
    g.runs.push({ seed: r.seed, metrics: runMetrics(rows) })
  }
  return new Map([...groups.entries()].map(([name, g]) => [name, seedMetrics(name, g.method, g.knobs, g.runs)]))
}

export const studySummary = (question: string, claims: ReadonlyArray<StudyClaimResult>): StudySummary =>
  ({ format: STUDY_SUMMARY_FORMAT, question, claims })

export const writeStudySummary = (dir: string, summary: StudySummary): void =>
  writeFileDurable(join(dir, STUDY_SUMMARY_FILE), `${JSON.stringify(summary, null, 2)}\n`)

/** "+1.9 ± 3.0 (n 5, need 7)": a claim's difference in points; "–" when no seed pairs. */
export const formatClaimDifference = (c: StudyClaimResult): string =>
  c.mean === null ? "–" : `${formatPoints(c.mean, c.half ?? 0, c.n)} (n ${c.n}, need ${c.seedsNeeded === null ? "∞" : String(c.seedsNeeded)})`

/** The console table: claim | statement | better − worse | verdict. */
export const formatClaimsTable = (claims: ReadonlyArray<StudyClaimResult>): string => {
  const head = ["claim", "statement", "better − worse (points)", "verdict"]
  const body = claims.map((c) => [c.id, c.statement, formatClaimDifference(c), c.verdict])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n")
}
