/** Synthetic memory contexts of the warm-up: reflected and composed by the real memory code, within budget. */
import { describe, expect, test } from "vitest"
import { Rng } from "../../../src/core/Rng.ts"
import { Control } from "../../../src/domains/control.ts"
import { type Domain, type ProblemBase, makeDomain } from "../../../src/domains/index.ts"
import { body, examplePool, skillList } from "../../../src/experiments/warmup/examples.ts"
import { memoryContext, syntheticExperience } from "../../../src/experiments/warmup/memoryContext.ts"
import { codeRecipe } from "../../../src/experiments/warmup/recipe.ts"

const domain = makeDomain(codeRecipe.domain) as Domain<ProblemBase>
const pool = examplePool(domain)
const problems = pool.problems.slice(0, 60)

/** The inside of the block opened by `open` (undefined if absent). */
const blockOf = (ctx: ReadonlyArray<number>, open: number): Array<number> | undefined => {
  const at = ctx.indexOf(open)
  return at < 0 ? undefined : ctx.slice(at + 1, ctx.indexOf(Control.END, at))
}

const contextOf = (p: ProblemBase, solved: number, behaviors: number, seed = 1) => {
  const rng = Rng.root(seed).fork(p.id)
  const prompt = domain.prompt(p, rng.fork("prompt"))
  const ctx = memoryContext(pool, p, prompt, { solved, behaviors, budget: 112 }, (n) => skillList(pool, p, n, rng.fork("skills")), rng.fork("memory"))
  return { prompt, ctx }
}

describe("warm-up memory contexts", () => {
  test("the synthetic experience: the reference solution as the success, verified failures with feedback", () => {
    for (const p of problems) {
      const solvedExp = syntheticExperience(pool, p, { solved: 1, behaviors: 0, budget: 112 }, Rng.root(2).fork(p.id))
      expect(solvedExp.successes.map((s) => s.response)).toEqual([domain.solution(p)])
      expect(solvedExp.failures.length).toBeLessThanOrEqual(2)
      const failedExp = syntheticExperience(pool, p, { solved: 0, behaviors: 0, budget: 112 }, Rng.root(2).fork(p.id))
      expect(failedExp.successes).toEqual([])
      for (const f of [...solvedExp.failures, ...failedExp.failures]) {
        expect(domain.verify(p, f.response, "train").solved).toBe(false)
        expect(f.feedback[0]).toBe(Control.FB)
      }
      expect(failedExp.attempts).toBe(failedExp.failures.length)
    }
  })

  test("solved: [STRAT] pieces of the solution, the whole solution in [SOL], the own skill among [BEH]; within budget", () => {
    let strategies = 0
    for (const p of problems) {
      const { prompt, ctx } = contextOf(p, 1, 1)
      expect(ctx.length).toBeLessThanOrEqual(112)
      expect(ctx[ctx.length - 1]).toBe(Control.ANS)
      expect(ctx.slice(0, prompt.length - 1)).toEqual(prompt.slice(0, -1))
      expect(blockOf(ctx, Control.SOL)).toEqual(body(domain.solution(p)))
      // contrastive strategies: n-grams of the success found in no failure (there may be none)
      const strat = blockOf(ctx, Control.STRAT)
      const sol = body(domain.solution(p)).join(",")
      if (strat !== undefined) strategies++
      for (const s of strat?.join(",").split(`,${Control.SEP},`) ?? []) expect(`,${sol},`).toContain(`,${s},`)
      const beh = blockOf(ctx, Control.BEH)!.join(",").split(`,${Control.SEP},`)
      expect(beh).toContain(domain.skill(p).join(","))
      // the paper's block order: strategies, lessons, behaviors, solution, feedback
      const order = [Control.STRAT, Control.LESSON, Control.BEH, Control.SOL, Control.FB].map((t) => ctx.indexOf(t)).filter((i) => i >= 0)
      expect(order).toEqual([...order].sort((a, b) => a - b))
    }
    expect(strategies).toBeGreaterThan(problems.length / 3)
  })

  test("unsolved: no [SOL], lessons to [AVOID] with their feedback; no behaviors at level EI", () => {
    let lessons = 0
    for (const p of problems) {
      const { ctx } = contextOf(p, 0, 0)
      expect(ctx).not.toContain(Control.SOL)
      expect(ctx).not.toContain(Control.BEH)
      const lesson = blockOf(ctx, Control.LESSON)
      if (lesson === undefined) continue
      lessons++
      expect(lesson[0]).toBe(Control.AVOID)
    }
    expect(lessons).toBeGreaterThan(problems.length / 2)
  })

  test("a function of its streams only", () => {
    const p = problems[7]!
    expect(contextOf(p, 0.5, 0.5, 3).ctx).toEqual(contextOf(p, 0.5, 0.5, 3).ctx)
    const variants = new Set(Array.from({ length: 12 }, (_, s) => contextOf(p, 0.5, 0.5, s).ctx.join(",")))
    expect(variants.size).toBeGreaterThan(3)
  })
})
