/**
 * The report's "Reflector and consolidator quality" section: one line per run whose train rows carry the
 * per-step `quality.*` diagnostics (src/memory/stepQuality.ts, defined there). Reflection figures are pooled
 * over the run's steps (hits over judged items, so a step with many lessons weighs more); consolidation
 * figures are the mean over the steps whose consolidation changed the bank. Runs without such rows (no
 * memory, or from before the figures existed) are left out; none has them, no section. Pure.
 */
import type { RunData } from "../protocol/metrics.ts"
import { trainRowsOf } from "./results.ts"
import { compareStrings, knobsLabel } from "./stats.ts"
import { escapeHtml } from "./tables.ts"

/** Reflection fractions, pooled: `quality.<name>` with its denominator `quality.<name>.n`. */
export const REFLECTION_FIGURES = ["strategySeparates", "strategyNamesSkill", "lessonSeparates", "lessonAvoidsSkill"] as const
/** Consolidation figures, averaged over the consolidations that changed the bank. */
export const BANK_FIGURES = ["skillBehaviorNamesSkill", "avoidBehaviorNamesAnySkill", "behaviorPurity"] as const

export interface RunQuality {
  readonly run: string
  readonly setting: string
  readonly steps: number
  /** new strategies / lessons per step */
  readonly strategiesPerStep: number
  readonly lessonsPerStep: number
  readonly reflection: Readonly<Record<(typeof REFLECTION_FIGURES)[number], number | null>>
  readonly consolidations: number
  /** mean bank size (skill, avoid) over those consolidations */
  readonly skillBehaviors: number | null
  readonly avoidBehaviors: number | null
  readonly bank: Readonly<Record<(typeof BANK_FIGURES)[number], number | null>>
}

const mean = (xs: ReadonlyArray<number>): number | null => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length)

/** A run's quality summary, or undefined when its train rows carry no `quality.*` figures. */
export const runQuality = (run: RunData): RunQuality | undefined => {
  const rows = trainRowsOf(run).flatMap((r) => (r.diagnostics !== undefined && "quality.reflected" in r.diagnostics ? [r.diagnostics] : []))
  if (rows.length === 0) return undefined
  const num = (d: Readonly<Record<string, number | null>>, k: string): number => d[`quality.${k}`] ?? 0
  const reflection = Object.fromEntries(REFLECTION_FIGURES.map((f) => {
    let hits = 0
    let judged = 0
    for (const d of rows) {
      const n = num(d, `${f}.n`)
      judged += n
      hits += n * num(d, f)
    }
    return [f, judged === 0 ? null : hits / judged]
  })) as RunQuality["reflection"]
  const cons = rows.filter((d) => d["quality.consolidated"] === 1)
  const bank = Object.fromEntries(BANK_FIGURES.map((f) => [f, mean(cons.flatMap((d) => {
    const v = d[`quality.${f}`]
    return v === null || v === undefined ? [] : [v]
  }))])) as RunQuality["bank"]
  return {
    run: run.name, setting: [run.method, knobsLabel(run.knobs)].filter((s) => s !== "").join(" "), steps: rows.length,
    strategiesPerStep: rows.reduce((a, d) => a + num(d, "strategies"), 0) / rows.length,
    lessonsPerStep: rows.reduce((a, d) => a + num(d, "lessons"), 0) / rows.length,
    reflection, consolidations: cons.length,
    skillBehaviors: mean(cons.map((d) => num(d, "skillBehaviors"))), avoidBehaviors: mean(cons.map((d) => num(d, "avoidBehaviors"))),
    bank
  }
}

const pct = (x: number | null): string => (x === null ? "–" : `${(x * 100).toFixed(0)}%`)
const num1 = (x: number | null): string => (x === null ? "–" : x.toFixed(1))

export const qualitySection = (runs: ReadonlyArray<RunData>): string => {
  const qs = [...runs].sort((a, b) => compareStrings(a.name, b.name)).flatMap((r) => {
    const q = runQuality(r)
    return q === undefined ? [] : [q]
  })
  if (qs.length === 0) return ""
  const head = ["run", "setting", "strategies / step", "strategy names a separating op", "strategy names the skill", "lessons / step",
    "lesson repeats no success", "lesson avoids own skill", "consolidations", "skill / avoid behaviors", "skill behavior names its cluster's skill",
    "avoid behavior names a skill", "cluster purity"]
  const rows = qs.map((q) => [
    escapeHtml(q.run), escapeHtml(q.setting), num1(q.strategiesPerStep), pct(q.reflection.strategySeparates), pct(q.reflection.strategyNamesSkill),
    num1(q.lessonsPerStep), pct(q.reflection.lessonSeparates), pct(q.reflection.lessonAvoidsSkill), String(q.consolidations),
    q.skillBehaviors === null ? "–" : `${num1(q.skillBehaviors)} / ${num1(q.avoidBehaviors)}`,
    pct(q.bank.skillBehaviorNamesSkill), pct(q.bank.avoidBehaviorNamesAnySkill), pct(q.bank.behaviorPurity)
  ])
  return `<section id="quality">
<h2>Reflector and consolidator quality</h2>
<p class="caption">What each step's reflection and consolidation wrote, judged against what the simulation knows (src/memory/stepQuality.ts;
the train rows' <code>quality.*</code> diagnostics). Reflection, pooled over the run's steps: a new strategy <i>names a separating op</i>
when it overlaps, in the aligned success, the ops where a failure of the same problem departs from it; a new lesson <i>repeats no
success</i> when no bigram of it occurs in a stored success (else "[AVOID]" names part of a solution); <i>avoids own skill</i>: the lesson
contains its problem's cluster skill (harmful). Consolidation, mean over the consolidations that changed the bank, on the whole bank:
skill behaviors that contain their majority cluster's skill; avoid behaviors that contain any cluster's skill (retrieved for that
cluster they say "avoid the solution"); purity: share of a behavior's problems in its majority cluster.</p>
<table class="results quality"><thead><tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr></thead><tbody>
${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("\n")}
</tbody></table>
</section>`
}
