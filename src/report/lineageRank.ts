/**
 * What each memory item taught, from a run's lineage.jsonl (pure): the one implementation behind
 * `pmdsim lineage` and the report's "What memory taught" section.
 *
 * For an item and each problem it was shown for (some teacher context of that problem's rollouts held it):
 * - shown: the number of those contexts (one per rollout: the teacher re-reads memory for each);
 * - before: the student's memory-free success on the problem up to and including the step the item was
 *   first shown for it: the fraction of the student's own rollouts of the problem, over those steps, that
 *   the verifier solved. Student rollouts are sampled without memory, so this is memory-free success, and
 *   the rollouts of that first step were sampled before the teacher (and the update) used the item;
 * - after: the same fraction over the problem's rollouts in the later steps;
 * - delta = after − before (null when the problem was not sampled again: not measurable).
 *
 * taught = Σ over the measurable problems of shown × delta: the change in success the item was present for,
 * weighted by how often the teacher used it (units: "rollout-contexts × success"). meanDelta = taught /
 * Σ shown over those problems, a weighted mean change in [−1, 1]. Items are ranked by taught (descending),
 * then times shown (descending), then id. Items with no measurable problem are counted, not ranked.
 *
 * This is attribution by co-occurrence, not a controlled experiment: everything else the policy learned in
 * between moves `after` too, and an item shown alongside others shares their credit. It says which items
 * were present where the student improved, and how much they were used.
 */
import type { ItemKind, LineageRecord } from "./lineageFile.ts"
import { itemKindOf } from "./lineageFile.ts"

export const RANKING_DEFINITION =
  "taught = Σ over the problems an item was shown for of (times shown × change in the student's memory-free success on that problem: " +
  "solved fraction of its own rollouts after the step the item was first shown for it, minus up to that step)"

export interface Rate {
  readonly rollouts: number
  readonly solved: number
}

export interface ProblemEffect {
  readonly problemId: string
  readonly shown: number
  /** the step the item was first shown for this problem */
  readonly firstShown: number
  /** the student's rollouts of the problem in steps <= firstShown, and in later steps */
  readonly before: Rate
  readonly after: Rate
  /** after − before success rate; null when there is no later rollout */
  readonly delta: number | null
}

export interface ShownTo {
  readonly step: number
  readonly rolloutId: string
  readonly problemId: string
  readonly reward: number
  readonly solved: boolean
  /** the memory version (seq) the item was read from */
  readonly version: number
}

export interface SourceRollout {
  readonly rolloutId: string
  readonly step: number | null
  readonly policyVersion: number | null
  readonly reward: number | null
}

export interface Creation {
  readonly step: number
  readonly sources: ReadonlyArray<SourceRollout>
}

export interface ItemLineage {
  readonly id: string
  readonly kind: ItemKind
  /** every step it (re)appeared in memory (a behavior removed and re-created appears twice) */
  readonly created: ReadonlyArray<Creation>
  readonly shown: ReadonlyArray<ShownTo>
  /** per problem shown for, sorted by problem id */
  readonly problems: ReadonlyArray<ProblemEffect>
  readonly timesShown: number
  readonly taught: number | null
  readonly meanDelta: number | null
}

export interface Ranking {
  /** measurable items, best first */
  readonly ranked: ReadonlyArray<ItemLineage>
  /** items shown to the teacher but with no measurable problem */
  readonly unmeasurable: number
  /** items shown at least once */
  readonly shownItems: number
  readonly steps: number
}

const rate = (r: Rate): number => (r.rollouts === 0 ? 0 : r.solved / r.rollouts)

/** Everything the analysis needs, indexed once. */
export interface LineageIndex {
  readonly steps: number
  readonly ids: ReadonlyArray<string>
  readonly item: (id: string) => ItemLineage | undefined
}

export const indexLineage = (records: ReadonlyArray<LineageRecord>): LineageIndex => {
  const student = new Map<string, Array<{ step: number; solved: boolean }>>()
  const shown = new Map<string, Array<ShownTo>>()
  const created = new Map<string, { kind: ItemKind; list: Array<Creation> }>()
  for (const r of records) {
    for (const [rolloutId, problemId, reward, solved, , , refs] of r.contexts) {
      const s = student.get(problemId) ?? []
      s.push({ step: r.step, solved: solved === 1 })
      student.set(problemId, s)
      for (const j of refs) {
        const [id, version] = r.items[j]!
        const list = shown.get(id) ?? []
        list.push({ step: r.step, rolloutId, problemId, reward, solved: solved === 1, version })
        shown.set(id, list)
      }
    }
    for (const [id, kind, sources] of r.created) {
      const c = created.get(id) ?? { kind, list: [] }
      c.list.push({ step: r.step, sources: sources.map(([rolloutId, step, policyVersion, reward]) => ({ rolloutId, step, policyVersion, reward })) })
      created.set(id, c)
    }
  }
  const effect = (problemId: string, list: ReadonlyArray<ShownTo>): ProblemEffect => {
    const firstShown = Math.min(...list.map((s) => s.step))
    const before = { rollouts: 0, solved: 0 }
    const after = { rollouts: 0, solved: 0 }
    for (const s of student.get(problemId) ?? []) {
      const side = s.step <= firstShown ? before : after
      side.rollouts++
      if (s.solved) side.solved++
    }
    return { problemId, shown: list.length, firstShown, before, after, delta: after.rollouts === 0 ? null : rate(after) - rate(before) }
  }
  const item = (id: string): ItemLineage | undefined => {
    const s = shown.get(id) ?? []
    const c = created.get(id)
    if (s.length === 0 && c === undefined) return undefined
    const byProblem = new Map<string, Array<ShownTo>>()
    for (const x of s) byProblem.set(x.problemId, [...(byProblem.get(x.problemId) ?? []), x])
    const problems = [...byProblem].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([p, list]) => effect(p, list))
    const measurable = problems.filter((p) => p.delta !== null)
    const weight = measurable.reduce((a, p) => a + p.shown, 0)
    const taught = measurable.length === 0 ? null : measurable.reduce((a, p) => a + p.shown * p.delta!, 0)
    return {
      id, kind: c?.kind ?? itemKindOf(id), created: c?.list ?? [], shown: s, problems, timesShown: s.length,
      taught, meanDelta: taught === null ? null : taught / weight
    }
  }
  const ids = [...new Set([...shown.keys(), ...created.keys()])].sort()
  return { steps: records.length, ids, item }
}

/** Items ranked by what they taught (see the header); `top` keeps the first N. */
export const rankItems = (records: ReadonlyArray<LineageRecord>, top = Infinity): Ranking => {
  const index = indexLineage(records)
  const all = index.ids.map((id) => index.item(id)!).filter((i) => i.timesShown > 0)
  const measurable = all.filter((i) => i.taught !== null)
  const ranked = [...measurable].sort((a, b) => b.taught! - a.taught! || b.timesShown - a.timesShown || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  return { ranked: ranked.slice(0, top), unmeasurable: all.length - measurable.length, shownItems: all.length, steps: index.steps }
}

/** "+12.5" (points) or "–" */
export const formatDelta = (d: number | null): string => (d === null ? "–" : `${d >= 0 ? "+" : "−"}${Math.abs(d * 100).toFixed(1)}`)
