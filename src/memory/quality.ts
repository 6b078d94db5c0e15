/**
 * Reflector and consolidator quality, measured on a memory state against what the simulation knows to be
 * true (issue #13: why insight and behavior levels help or hurt). Pure; reported at each evaluation.
 *
 * - `strategyNamesSeparator`: of the strategies of problems whose experience holds both a success and a
 *   failure, the fraction that contain at least one separating token: a token of the problem's best stored
 *   success (highest reward, then latest) that no stored failure contains. A strategy without one tells the
 *   teacher nothing the failures did not already do.
 * - `strategyNamesSkill`: of all strategies, the fraction containing the problem's cluster skill (its
 *   tokens, contiguous), where the domain has one.
 * - `lessonAvoidsOwnSkill`: of all lessons ("[AVOID] pattern"), the fraction whose pattern contains the
 *   problem's own skill: a lesson that tells the student to avoid what solves the problem.
 * - `skillBehaviorNamesClusterSkill`: of the behaviors of kind "skill", the fraction containing the skill
 *   of the cluster most of their supporting problems belong to (ties: the smallest cluster number).
 * - `avoidBehaviorNamesClusterSkill`: of the behaviors of kind "avoid", the fraction containing the skill
 *   of their own (majority) cluster: retrieved for a problem of that cluster, such an item tells the
 *   teacher to avoid the very procedure that solves it.
 * A fraction is null when there is nothing to measure (no such item, or no ground truth).
 */
import type { ExperienceItem } from "./experience/experience.ts"
import { containsGram } from "./insight/ngrams.ts"
import type { MemoryState } from "./state.ts"
import type { ReflectorQuality } from "../protocol/metrics.ts"

export type { ReflectorQuality }

/** What the domain knows of a training problem. `skill` is null where the domain has no such notion. */
export interface GroundTruth {
  readonly cluster: number
  readonly skill: ReadonlyArray<number> | null
}


/** Whether `needle` (non-empty) occurs contiguously in `hay`. */
export const containsRun = (hay: ReadonlyArray<number>, needle: ReadonlyArray<number>): boolean => needle.length > 0 && containsGram(hay, needle)

const fraction = (hits: number, of: number): number | null => (of === 0 ? null : hits / of)

const bestSuccess = (xs: ReadonlyArray<ExperienceItem>): ExperienceItem | undefined =>
  [...xs].sort((a, b) => b.prov.reward - a.prov.reward || b.prov.step - a.prov.step || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))[0]

const separatingTokens = (successes: ReadonlyArray<ExperienceItem>, failures: ReadonlyArray<ExperienceItem>): Set<number> => {
  const failed = new Set(failures.flatMap((f) => [...f.response]))
  return new Set([...(bestSuccess(successes)?.response ?? [])].filter((t) => !failed.has(t)))
}

/** The most common cluster among `problemIds` (ties: smallest cluster), or undefined. */
const majorityCluster = (problemIds: ReadonlyArray<string>, truth: (id: string) => GroundTruth | undefined): number | undefined => {
  const counts = new Map<number, number>()
  for (const id of problemIds) {
    const c = truth(id)?.cluster
    if (c !== undefined) counts.set(c, (counts.get(c) ?? 0) + 1)
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0]
}

/** The skill of the cluster most of `problemIds` belong to, where the domain has one. */
const clusterSkill = (problemIds: ReadonlyArray<string>, truth: (id: string) => GroundTruth | undefined): ReadonlyArray<number> | null => {
  const cluster = majorityCluster(problemIds, truth)
  return cluster === undefined ? null : problemIds.map(truth).find((t) => t?.cluster === cluster)?.skill ?? null
}

/** Items seen, and of those that could be judged, how many passed: a fraction of the judged, or null. */
class Tally {
  seen = 0
  judged = 0
  hits = 0
  /** counts an item; `hit` is null when it cannot be judged */
  add(hit: boolean | null): void {
    this.seen++
    if (hit === null) return
    this.judged++
    if (hit) this.hits++
  }
  get fraction(): number | null {
    return fraction(this.hits, this.judged)
  }
}

export const reflectorQuality = (state: MemoryState, truth: (problemId: string) => GroundTruth | undefined): ReflectorQuality => {
  const separator = new Tally()
  const strategySkill = new Tally()
  const lessonSkill = new Tally()
  for (const [problemId, ins] of state.insights) {
    const skill = truth(problemId)?.skill ?? null
    const exp = state.experience.get(problemId)
    const separators = exp !== undefined && exp.successes.length > 0 && exp.failures.length > 0 ? separatingTokens(exp.successes, exp.failures) : null
    for (const s of ins.strategies) {
      separator.add(separators === null ? null : s.tokens.some((t) => separators.has(t)))
      strategySkill.add(skill === null ? null : containsRun(s.tokens, skill))
    }
    for (const l of ins.lessons) lessonSkill.add(skill === null ? null : containsRun(l.tokens, skill))
  }
  const behaviors = { skill: new Tally(), avoid: new Tally() }
  for (const b of state.bank.behaviors) {
    const skill = clusterSkill(b.problemIds, truth)
    behaviors[b.kind].add(skill === null ? null : containsRun(b.tokens, skill))
  }
  return {
    strategies: strategySkill.seen,
    strategyNamesSeparator: separator.fraction,
    strategyNamesSkill: strategySkill.fraction,
    lessons: lessonSkill.seen,
    lessonAvoidsOwnSkill: lessonSkill.fraction,
    skillBehaviors: behaviors.skill.seen,
    skillBehaviorNamesClusterSkill: behaviors.skill.fraction,
    avoidBehaviors: behaviors.avoid.seen,
    avoidBehaviorNamesClusterSkill: behaviors.avoid.fraction
  }
}
