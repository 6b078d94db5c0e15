/**
 * Does a stored solution reach the memory-free student, and where does it go? (issue #13, findings §17)
 *
 * Between two checkpoints c < c' of a run, every training problem that had a solution S before c (the
 * newest successful rollout recorded up to step c) is scored memory-free under both students:
 * Δ = log π_{c'}(S | prompt) − log π_c(S | prompt) in nats, and Δp = π_{c'}(S) − π_c(S). Problems are
 * grouped by what the run did with them inside the window (its lineage):
 *   - none:     not visited (the drift every problem sees from the other problems' updates),
 *   - all-fail: visited once, every rollout failed (PMD's teacher then shows S; GRPO learns from partial
 *               rewards only),
 *   - success:  visited once, some rollout solved it.
 * With checkpoints every 20 steps and an epoch of 40 (the `paper` regime: 320 problems, 8 a step), a
 * window's unvisited problems are mostly those visited in the window before. The grouping follows the
 * visit's outcome, which also depends on where π(S) was drifting, so a kind's Δ is not a visit's effect by
 * itself: compare methods on the same solutions, kind by kind (a PMD run and a GRPO run of one seed,
 * whose problem schedule is the same), as findings §17 does.
 *
 * Pure: the script (scripts/solutionRetention.ts) reads the run and scores the sequences.
 */
import type { Attempt } from "../memory/experience/experience.ts"
import type { RolloutsRecord } from "./memoryReplay/rolloutsFile.ts"
import type { LineageRecord } from "../report/lineageFile.ts"

export type Visit = "all-fail" | "success" | "twice"

/** Each problem's newest attempt that `pick` accepts (the first of its newest group), recorded at or before `step`. */
const newestAttempts = (records: ReadonlyArray<RolloutsRecord>, step: number, pick: (a: Attempt) => boolean): Map<string, ReadonlyArray<number>> => {
  const out = new Map<string, ReadonlyArray<number>>()
  for (const { step: s, call } of records) {
    if (s > step || call === null || call._tag !== "Remember") continue
    for (const g of call.request.groups) {
      const chosen = g.attempts.find(pick)
      if (chosen !== undefined) out.set(g.problemId, chosen.response)
    }
  }
  return out
}

/** Each problem's newest success recorded at or before `step`: S, what PMD's experience level stores. */
export const solutionsAt = (records: ReadonlyArray<RolloutsRecord>, step: number): Map<string, ReadonlyArray<number>> =>
  newestAttempts(records, step, (a) => a.success)

/** Each problem's newest failed attempt (with a response) recorded at or before `step`: the contrast to S. */
export const failuresAt = (records: ReadonlyArray<RolloutsRecord>, step: number): Map<string, ReadonlyArray<number>> =>
  newestAttempts(records, step, (a) => !a.success && a.response.length > 0)

/** What the run did with each problem it visited in lineage steps (a, b]. */
export const visitsIn = (lineage: ReadonlyArray<LineageRecord>, a: number, b: number): Map<string, Visit> => {
  const outcomes = new Map<string, Array<boolean>>()
  for (const rec of lineage) {
    if (rec.step <= a || rec.step > b) continue
    const solved = new Map<string, boolean>()
    for (const [, problemId, , s] of rec.contexts) solved.set(problemId, (solved.get(problemId) ?? false) || s === 1)
    for (const [p, s] of solved) outcomes.set(p, [...(outcomes.get(p) ?? []), s])
  }
  return new Map([...outcomes].map(([p, v]) => [p, v.length > 1 ? "twice" : v[0] ? "success" : "all-fail"]))
}

/** Where π(S) stood at the window's start. */
export const band = (p: number): string => (p < 0.05 ? "< 0.05" : p < 0.3 ? "0.05-0.3" : ">= 0.3")

export interface Window {
  /** log π(S) per problem at the window's start and end (the same problems) */
  readonly before: ReadonlyMap<string, number>
  readonly after: ReadonlyMap<string, number>
  readonly visits: ReadonlyMap<string, Visit>
}

/**
 * The window's observations as [key, value] pairs: each problem's Δ (nats) and Δp under its visit's kind,
 * and under its kind and the band π(S) started in. A problem visited twice is left out.
 */
export const windowEffects = (w: Window): Array<readonly [string, number]> => {
  const out: Array<readonly [string, number]> = []
  for (const id of [...w.before.keys()].sort()) {
    const visit = w.visits.get(id) ?? "none"
    if (visit === "twice") continue
    const lp0 = w.before.get(id)!
    const lp1 = w.after.get(id)!
    const kinds = [visit, `${visit}, π(S) ${band(Math.exp(lp0))}`]
    for (const k of kinds) out.push([k, lp1 - lp0], [`${k} Δp`, Math.exp(lp1) - Math.exp(lp0)])
  }
  return out
}

export interface Contrast {
  /** log π(S) and log π(F) per problem at the window's start and end (the same problems) */
  readonly solution: { readonly before: ReadonlyMap<string, number>; readonly after: ReadonlyMap<string, number> }
  readonly failure: { readonly before: ReadonlyMap<string, number>; readonly after: ReadonlyMap<string, number> }
  readonly visits: ReadonlyMap<string, Visit>
}

/**
 * The window's observations of S against a stored failure F of the same problem: `${kind} S−F` = ΔS − ΔF in
 * nats. A change that lifts every unlikely sequence alike (a flatter student) cancels here; a pull toward
 * the solution itself does not.
 */
export const contrastEffects = (c: Contrast): Array<readonly [string, number]> =>
  [...c.solution.before.keys()].sort().flatMap((id) => {
    const visit = c.visits.get(id) ?? "none"
    if (visit === "twice") return []
    const delta = (m: Contrast["solution"]) => m.after.get(id)! - m.before.get(id)!
    return [[`${visit} S−F`, delta(c.solution) - delta(c.failure)] as const]
  })

/** Means of the observations by key, each with its count. */
export const summarize = (observations: ReadonlyArray<readonly [string, number]>): Record<string, { n: number; mean: number }> => {
  const sums = new Map<string, { n: number; sum: number }>()
  for (const [k, x] of observations) {
    const s = sums.get(k) ?? { n: 0, sum: 0 }
    sums.set(k, { n: s.n + 1, sum: s.sum + x })
  }
  return Object.fromEntries([...sums].map(([k, s]) => [k, { n: s.n, mean: Number((s.sum / s.n).toFixed(5)) }]))
}
