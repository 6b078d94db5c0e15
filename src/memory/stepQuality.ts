/**
 * Reflector and consolidator quality of one training step (issue #13), judged on what each of them saw
 * and wrote in that step; src/memory/quality.ts judges the whole memory at an evaluation instead. Pure.
 * Reported in the train row's `diagnostics` (keys `quality.*`), never hashed.
 *
 * Reflection (the insights whose ids the memory before the step did not hold, per problem reflected):
 * the experience the reflector read is the memory after the step (experience is committed before
 * reflection, and nothing later in the step changes it). Responses are compared up to their first [EOS].
 * - A failure's *separating region* (contrast.ts): against the success sharing its longest prefix, the
 *   ops between the common prefix and the common suffix, on the success's side and on the failure's.
 * - `strategySeparates`: of the new strategies of problems with a failure whose success-side region is
 *   non-empty, the fraction occurring in that aligned success at a span that overlaps the region, for at
 *   least one such failure: the strategy names an operation that separates the success from a failure.
 * - `strategyNamesSkill`: of the new strategies of problems with a known skill, the fraction containing it.
 * - `lessonSeparates`: of the new lessons of problems holding a success, the fraction that share no
 *   bigram (no token, for a one-token lesson) with any stored success: a lesson that does repeats part
 *   of a solution, and "[AVOID]" then tells the teacher to avoid it (`comp dbl sq` on a `dbl sq` problem).
 * - `lessonAvoidsSkill`: of the new lessons of problems with a known skill, the fraction containing it.
 * Consolidation (steps whose bank holds other behaviors than before: a consolidation that changed it),
 * judged on the whole bank it left, since retrieval reads all of it:
 * - `skillBehaviorNamesSkill`: skill behaviors containing the skill of their majority cluster (the
 *   domain cluster most of their supporting problems belong to, ties: the smallest);
 * - `avoidBehaviorNamesOwnSkill`: avoid behaviors containing their own majority cluster's skill;
 * - `avoidBehaviorNamesAnySkill`: avoid behaviors containing any cluster's skill (retrieved for a problem of
 *   that cluster, it tells the teacher to avoid the solution's core);
 * - `behaviorPurity`: mean share of a behavior's supporting problems in its majority cluster.
 * Each fraction comes with its denominator (`<name>.n`) so a report can pool steps; null when it is 0.
 */
import { compareStrings } from "../core/Order.ts"
import type { Behavior } from "./behavior/behavior.ts"
import type { ProblemExperience } from "./experience/experience.ts"
import { overlapsAt, repeatsSuccess, separatingRegion } from "./insight/contrast.ts"
import type { Insight } from "./insight/insights.ts"
import { containsGram } from "./insight/ngrams.ts"
import type { GroundTruth } from "./quality.ts"
import type { MemoryState } from "./state.ts"

const hasRun = (hay: ReadonlyArray<number>, needle: ReadonlyArray<number> | null): boolean | null =>
  needle === null || needle.length === 0 ? null : containsGram(hay, needle)

class Tally {
  judged = 0
  hits = 0
  add(hit: boolean | null): void {
    if (hit === null) return
    this.judged++
    if (hit) this.hits++
  }
  into(out: Record<string, number | null>, name: string): void {
    out[`quality.${name}`] = this.judged === 0 ? null : this.hits / this.judged
    out[`quality.${name}.n`] = this.judged
  }
}

/** The figures of one problem's new insights against the experience the reflector read. */
const judgeReflection = (
  exp: ProblemExperience | undefined, strategies: ReadonlyArray<Insight>, lessons: ReadonlyArray<Insight>, skill: ReadonlyArray<number> | null,
  t: { sep: Tally; stratSkill: Tally; lessonSep: Tally; lessonSkill: Tally }
): void => {
  const successes = exp?.successes ?? []
  const regions = successes.length === 0 ? [] : (exp?.failures ?? []).flatMap((f) => {
    const r = separatingRegion(successes, f.response)
    return r !== undefined && r.sEnd > r.d ? [r] : []
  })
  for (const s of strategies) {
    t.sep.add(regions.length === 0 ? null : regions.some((r) => overlapsAt(r.success, s.tokens, r.d, r.sEnd)))
    t.stratSkill.add(hasRun(s.tokens, skill))
  }
  for (const l of lessons) {
    t.lessonSep.add(successes.length === 0 ? null : !repeatsSuccess(l.tokens, successes))
    t.lessonSkill.add(hasRun(l.tokens, skill))
  }
}

/** The domain cluster most of `b`'s problems belong to (ties: smallest) and that share. */
const majority = (b: Behavior, truth: ReadonlyMap<string, GroundTruth>): { cluster: number; share: number } | undefined => {
  const counts = new Map<number, number>()
  let known = 0
  for (const id of b.problemIds) {
    const c = truth.get(id)?.cluster
    if (c === undefined) continue
    known++
    counts.set(c, (counts.get(c) ?? 0) + 1)
  }
  const top = [...counts.entries()].sort((x, y) => y[1] - x[1] || x[0] - y[0])[0]
  return top === undefined ? undefined : { cluster: top[0], share: top[1] / known }
}

/** The figures of the bank a consolidation left. */
const judgeBank = (bank: ReadonlyArray<Behavior>, truth: ReadonlyMap<string, GroundTruth>, out: Record<string, number | null>): void => {
  const skillOf = new Map<number, ReadonlyArray<number> | null>()
  for (const g of truth.values()) if (!skillOf.has(g.cluster)) skillOf.set(g.cluster, g.skill)
  const allSkills = [...skillOf.values()].filter((s): s is ReadonlyArray<number> => s !== null && s.length > 0)
  const skillNames = new Tally()
  const avoidOwn = new Tally()
  const avoidAny = new Tally()
  let purity = 0
  let judged = 0
  for (const b of bank) {
    const m = majority(b, truth)
    if (m !== undefined) {
      purity += m.share
      judged++
    }
    const own = m === undefined ? null : skillOf.get(m.cluster) ?? null
    if (b.kind === "skill") skillNames.add(hasRun(b.tokens, own))
    else {
      avoidOwn.add(hasRun(b.tokens, own))
      avoidAny.add(allSkills.length === 0 ? null : allSkills.some((s) => containsGram(b.tokens, s)))
    }
  }
  out["quality.skillBehaviors"] = bank.filter((b) => b.kind === "skill").length
  out["quality.avoidBehaviors"] = bank.filter((b) => b.kind === "avoid").length
  skillNames.into(out, "skillBehaviorNamesSkill")
  avoidOwn.into(out, "avoidBehaviorNamesOwnSkill")
  avoidAny.into(out, "avoidBehaviorNamesAnySkill")
  out["quality.behaviorPurity"] = judged === 0 ? null : purity / judged
}

/** Did the behaviors change (ids, in order)? Usage bookkeeping alone changes counters, not ids. */
const bankChanged = (before: MemoryState, after: MemoryState): boolean => {
  const a = before.bank.behaviors
  const b = after.bank.behaviors
  return a !== b && (a.length !== b.length || a.some((x, i) => x.id !== b[i]!.id))
}

/** The step's quality figures (see the header); keys `quality.*`. */
export const stepQuality = (before: MemoryState, after: MemoryState, truth: ReadonlyMap<string, GroundTruth>): Record<string, number | null> => {
  const t = { sep: new Tally(), stratSkill: new Tally(), lessonSep: new Tally(), lessonSkill: new Tally() }
  let strategies = 0
  let lessons = 0
  let reflected = 0
  if (before.insights !== after.insights) {
    for (const [p, rec] of [...after.insights.entries()].sort((x, y) => compareStrings(x[0], y[0]))) {
      const old = before.insights.get(p)
      if (old === rec) continue
      const had = new Set(old === undefined ? [] : [...old.strategies, ...old.lessons].map((i) => i.id))
      const newS = rec.strategies.filter((i) => !had.has(i.id))
      const newL = rec.lessons.filter((i) => !had.has(i.id))
      if (newS.length + newL.length === 0) continue
      reflected++
      strategies += newS.length
      lessons += newL.length
      judgeReflection(after.experience.get(p), newS, newL, truth.get(p)?.skill ?? null, t)
    }
  }
  const out: Record<string, number | null> = { "quality.reflected": reflected, "quality.strategies": strategies, "quality.lessons": lessons }
  t.sep.into(out, "strategySeparates")
  t.stratSkill.into(out, "strategyNamesSkill")
  t.lessonSep.into(out, "lessonSeparates")
  t.lessonSkill.into(out, "lessonAvoidsSkill")
  out["quality.consolidated"] = bankChanged(before, after) ? 1 : 0
  if (out["quality.consolidated"] === 1) judgeBank(after.bank.behaviors, truth, out)
  return out
}
