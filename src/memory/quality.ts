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

/** What the domain knows of a training problem. `skill` is null where the domain has no such notion. */
export interface GroundTruth {
  readonly cluster: number
  readonly skill: ReadonlyArray<number> | null
}

export interface ReflectorQuality {
  readonly strategies: number
  readonly strategyNamesSeparator: number | null
  readonly strategyNamesSkill: number | null
  readonly lessons: number
  readonly lessonAvoidsOwnSkill: number | null
  readonly skillBehaviors: number
  readonly skillBehaviorNamesClusterSkill: number | null
  readonly avoidBehaviors: number
  readonly avoidBehaviorNamesClusterSkill: number | null
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

export const reflectorQuality = (state: MemoryState, truth: (problemId: string) => GroundTruth | undefined): ReflectorQuality => {
  let strategies = 0
  let contrastedStrategies = 0
  let namesSeparator = 0
  let withSkill = 0
  let namesSkill = 0
  let lessons = 0
  let lessonsWithSkill = 0
  let avoidsOwn = 0
  for (const [problemId, ins] of state.insights) {
    const skill = truth(problemId)?.skill ?? null
    const exp = state.experience.get(problemId)
    const separators = exp !== undefined && exp.successes.length > 0 && exp.failures.length > 0 ? separatingTokens(exp.successes, exp.failures) : null
    for (const s of ins.strategies) {
      strategies++
      if (separators !== null) {
        contrastedStrategies++
        if (s.tokens.some((t) => separators.has(t))) namesSeparator++
      }
      if (skill !== null) {
        withSkill++
        if (containsRun(s.tokens, skill)) namesSkill++
      }
    }
    for (const l of ins.lessons) {
      lessons++
      if (skill !== null) {
        lessonsWithSkill++
        if (containsRun(l.tokens, skill)) avoidsOwn++
      }
    }
  }
  let skillBehaviors = 0
  let skillJudged = 0
  let namesClusterSkill = 0
  let avoidBehaviors = 0
  let avoidJudged = 0
  let avoidNamesSkill = 0
  for (const b of state.bank.behaviors) {
    if (b.kind === "skill") {
      skillBehaviors++
      const skill = clusterSkill(b.problemIds, truth)
      if (skill !== null) {
        skillJudged++
        if (containsRun(b.tokens, skill)) namesClusterSkill++
      }
    } else {
      avoidBehaviors++
      const skill = clusterSkill(b.problemIds, truth)
      if (skill !== null) {
        avoidJudged++
        if (containsRun(b.tokens, skill)) avoidNamesSkill++
      }
    }
  }
  return {
    strategies,
    strategyNamesSeparator: fraction(namesSeparator, contrastedStrategies),
    strategyNamesSkill: fraction(namesSkill, withSkill),
    lessons,
    lessonAvoidsOwnSkill: fraction(avoidsOwn, lessonsWithSkill),
    skillBehaviors,
    skillBehaviorNamesClusterSkill: fraction(namesClusterSkill, skillJudged),
    avoidBehaviors,
    avoidBehaviorNamesClusterSkill: fraction(avoidNamesSkill, avoidJudged)
  }
}
