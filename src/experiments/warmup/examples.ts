/**
 * One warm-up example: a context (the domain prompt, possibly with hint / memory blocks laid out by
 * domains/context.ts `withBlocks`) and the response to learn (the reference solution, with [EOS]).
 *
 * Everything is drawn from the visit stream, keyed by (recipe seed, step, problem id) by the caller, so
 * an example is re-drawn on every visit (fresh prompt examples, cue noise, mixture kind, distractors,
 * corruption) and depends on nothing else.
 */
import type { Rng } from "../../core/Rng.ts"
import { block, joinItems, withBlocks } from "../../domains/context.ts"
import { Control } from "../../domains/control.ts"
import type { Domain, ProblemBase } from "../../domains/Domain.ts"
import { memoryContext } from "./memoryContext.ts"
import type { Mixture, MixtureWeights } from "./recipe.ts"

export type ContextKind = "none" | "skill" | "solution" | "feedback" | "memory"
export const CONTEXT_KINDS: ReadonlyArray<ContextKind> = ["none", "skill", "solution", "feedback", "memory"]

export interface Example {
  /** Id of the problem the example is built on (in an auxiliary domain when `foreign`). */
  readonly problemId: string
  readonly foreign: boolean
  readonly kind: ContextKind
  readonly context: ReadonlyArray<number>
  /** The reference solution, ending with [EOS]. */
  readonly response: ReadonlyArray<number>
}

/** Per-domain facts the examples need, computed once from the train split. */
export interface ExamplePool<P extends ProblemBase> {
  readonly domain: Domain<P>
  readonly problems: ReadonlyArray<P>
  /** Distinct skills per cluster (as tokens), indexed by cluster. */
  readonly skills: ReadonlyArray<ReadonlyArray<number> | undefined>
  /** Every token that occurs in a train solution body: what a corruption may substitute. */
  readonly responseTokens: ReadonlyArray<number>
}

/** The pool of a domain's train split (or, for an auxiliary domain, of both splits). */
export const examplePool = <P extends ProblemBase>(domain: Domain<P>, splits: ReadonlyArray<"train" | "heldout"> = ["train"]): ExamplePool<P> => {
  const problems = splits.flatMap((s) => domain.problems(s))
  const skills: Array<ReadonlyArray<number> | undefined> = []
  const tokens = new Set<number>()
  for (const p of problems) {
    skills[p.cluster] ??= domain.skill(p)
    for (const t of body(domain.solution(p))) tokens.add(t)
  }
  return { domain, problems, skills, responseTokens: [...tokens].sort((a, b) => a - b) }
}

/** A solution without its final [EOS] (how a [SOL] block shows it). */
export const body = (solution: ReadonlyArray<number>): Array<number> =>
  solution[solution.length - 1] === Control.EOS ? solution.slice(0, -1) : [...solution]

/** The problem's skill and `n` skills of other clusters, in a random order (what top-K retrieval gives). */
export const skillList = <P extends ProblemBase>(pool: ExamplePool<P>, problem: P, n: number, rng: Rng): Array<ReadonlyArray<number>> => {
  const own = pool.domain.skill(problem)
  const others = pool.skills.flatMap((s, c) => (s === undefined || c === problem.cluster ? [] : [s]))
  const chosen = rng.shuffle(others).slice(0, n)
  return rng.shuffle([own, ...chosen])
}

/** The skill-hint body: skillList [SEP]-joined. */
export const skillItems = <P extends ProblemBase>(pool: ExamplePool<P>, problem: P, n: number, rng: Rng): Array<number> =>
  joinItems(skillList(pool, problem, n, rng))

/**
 * A failed attempt: the solution with one token substituted (or dropped, or one inserted), verified
 * under the train protocol; its response (with [EOS]) and feedback block. Undefined if a few tries all
 * still solve.
 */
export const failedAttempt = <P extends ProblemBase>(
  pool: ExamplePool<P>, problem: P, rng: Rng
): { readonly response: ReadonlyArray<number>; readonly feedback: ReadonlyArray<number> } | undefined => {
  const sol = body(pool.domain.solution(problem))
  for (let attempt = 0; attempt < 4; attempt++) {
    const bad = [...sol]
    const at = rng.below(Math.max(1, bad.length))
    const how = rng.below(4)
    if (how === 0 && bad.length > 1) bad.splice(at, 1)
    else if (how === 1) bad.splice(at, 0, rng.pick(pool.responseTokens))
    else bad[at] = rng.pick(pool.responseTokens)
    const response = [...bad, Control.EOS]
    const v = pool.domain.verify(problem, response, "train")
    if (!v.solved && v.feedback.length > 0) return { response, feedback: v.feedback }
  }
  return undefined
}

/** The feedback block of a failed attempt (see failedAttempt). */
export const failedFeedback = <P extends ProblemBase>(pool: ExamplePool<P>, problem: P, rng: Rng): ReadonlyArray<number> | undefined =>
  failedAttempt(pool, problem, rng)?.feedback

/** The kind of context for one visit, drawn from the mixture weights of its step. */
export const drawKind = (w: MixtureWeights, rng: Rng): ContextKind =>
  CONTEXT_KINDS[rng.weighted([w.none, w.skill, w.solution, w.feedback, w.memory ?? 0])]!

/**
 * Builds the example of one visit: the context kind is drawn from `weights`; a skill, solution or memory
 * context is built, with probability mixture.foreign, on a problem drawn from `foreign` (auxiliary pools).
 */
export const makeExample = <P extends ProblemBase>(
  home: ExamplePool<P>,
  homeProblem: P,
  mixture: Mixture,
  weights: MixtureWeights,
  visit: Rng,
  foreign: ReadonlyArray<ExamplePool<P>> = []
): Example => {
  const rng = visit.fork("mix")
  const kind = drawKind(weights, rng)
  let pool = home
  let problem = homeProblem
  if ((kind === "skill" || kind === "solution" || kind === "memory") && foreign.length > 0 && rng.bool(mixture.foreign)) {
    pool = rng.pick(foreign)
    problem = rng.pick(pool.problems)
  }
  const d = pool.domain
  const prompt = d.prompt(problem, visit.fork("prompt"))
  const response = d.solution(problem)
  const skillBlock = (): Array<number> => block(Control.BEH, skillItems(pool, problem, rng.weighted(mixture.distractors), rng))
  let blocks: Array<number> = []
  if (kind === "skill") blocks = skillBlock()
  else if (kind === "solution") {
    // drawn only when the knob is set, so recipes without it draw the same streams as before
    const drill = mixture.workingDrill !== undefined && rng.bool(mixture.workingDrill)
    blocks = block(Control.SOL, drill ? body(response).slice(0, -1) : body(response))
  }
  else if (kind === "memory") {
    if (mixture.memory === undefined) throw new RangeError("warm-up: a memory context needs mixture.memory")
    const context = memoryContext(pool, problem, prompt, mixture.memory, (n) => skillList(pool, problem, n, rng), rng.fork("memory"))
    return { problemId: problem.id, foreign: pool !== home, kind, context, response }
  }
  else if (kind === "feedback") {
    const fb = failedFeedback(pool, problem, rng.fork("corrupt"))
    const withSkill = rng.bool(mixture.feedbackWithSkill)
    // context.ts order: [BEH] before [FB]
    blocks = [...(withSkill ? skillBlock() : []), ...(fb ?? [])]
  }
  return { problemId: problem.id, foreign: pool !== home, kind, context: withBlocks(prompt, blocks), response }
}
