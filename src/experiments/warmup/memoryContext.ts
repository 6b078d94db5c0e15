/**
 * The memory blocks of a warm-up example, laid out exactly as PMD's teacher sees them at memory levels
 * EI / EIB: a synthetic experience of the problem (the reference solution as a success, or not; up to
 * three corrupted attempts as failures, with their verifier feedback) is reflected into strategies and
 * lessons by the real reflector (src/memory/insight/reflect.ts) and rendered, with the cluster's skill
 * among distractor skills as behaviors, by the real compose (src/memory/retrieval/compose.ts) within the
 * teacher's token budget.
 *
 * Why: a base warmed up only on [SOL] / [FB] / skill-[BEH] blocks meets [STRAT] / [LESSON] / [AVOID]
 * for the first time inside the teacher's context, and a teacher reading an out-of-distribution context
 * is a bad teacher (with levels EIB, PMD collapsed from 25% to 5.5% in 20 steps on such a base).
 */
import type { Rng } from "../../core/Rng.ts"
import type { ProblemBase } from "../../domains/Domain.ts"
import type { ExperienceItem, ProblemExperience } from "../../memory/experience/experience.ts"
import { newInsight } from "../../memory/insight/insights.ts"
import { reflect } from "../../memory/insight/reflect.ts"
import { compose } from "../../memory/retrieval/compose.ts"
import { type ExamplePool, failedAttempt } from "./examples.ts"

export interface MemoryMix {
  /** Probability that the synthetic experience holds a success (the reference solution). */
  readonly solved: number
  /** Probability that retrieved behaviors (own skill + 0-2 distractors) are in the context (EIB, else EI). */
  readonly behaviors: number
  /** The teacher's context budget (RunConfig memory.contextTokensMax). */
  readonly budget: number
}

const item = (id: string, response: ReadonlyArray<number>, feedback: ReadonlyArray<number>, success: boolean): ExperienceItem => ({
  id, response, feedback, success, prov: { rolloutId: id, policyVersion: 0, step: 0, reward: success ? 1 : 0 }
})

/** The problem's synthetic experience: a success or not, and 1-3 failures (0-2 when solved). */
export const syntheticExperience = <P extends ProblemBase>(pool: ExamplePool<P>, problem: P, mix: MemoryMix, rng: Rng): ProblemExperience => {
  const solved = rng.bool(mix.solved)
  const failures: Array<ExperienceItem> = []
  const nFail = rng.below(3) + (solved ? 0 : 1)
  for (let i = 0; i < nFail; i++) {
    const a = failedAttempt(pool, problem, rng.fork("fail", i))
    if (a !== undefined) failures.push(item(`f${i}`, a.response, a.feedback, false))
  }
  const successes = solved ? [item("s0", pool.domain.solution(problem), [], true)] : []
  return { problemId: problem.id, successes, failures, attempts: successes.length + failures.length, solved: successes.length }
}

/**
 * The teacher-context tokens of `prompt` with the problem's synthetic memory (levels EIB when behaviors
 * are drawn, else EI). `skills(n)` gives the behavior items: the own skill and n distractors, shuffled.
 */
export const memoryContext = <P extends ProblemBase>(
  pool: ExamplePool<P>,
  problem: P,
  prompt: ReadonlyArray<number>,
  mix: MemoryMix,
  skills: (n: number) => ReadonlyArray<ReadonlyArray<number>>,
  rng: Rng
): Array<number> => {
  const experience = syntheticExperience(pool, problem, mix, rng.fork("experience"))
  const candidates = reflect(experience, { step: 0, policyVersion: 0 })
  const insights = {
    problemId: problem.id,
    strategies: candidates.filter((c) => c.kind === "strategy").map((c) => newInsight(problem.id, c)),
    lessons: candidates.filter((c) => c.kind === "lesson").map((c) => newInsight(problem.id, c))
  }
  const withBehaviors = rng.bool(mix.behaviors)
  const behaviors = withBehaviors ? skills(rng.below(3)).map((tokens) => ({ kind: "skill" as const, tokens })) : []
  return compose({ experience, insights, behaviors }, { prompt }, { levels: withBehaviors ? "EIB" : "EI", budget: mix.budget }).tokens
}
