/** The warm-up mixture: contexts laid out by withBlocks, re-drawn per visit, schedule toward unhinted. */
import { describe, expect, test } from "vitest"
import { Rng } from "../../../src/core/Rng.ts"
import { Control } from "../../../src/domains/control.ts"
import { type Domain, type ProblemBase, makeDomain } from "../../../src/domains/index.ts"
import { body, examplePool, failedFeedback, makeExample } from "../../../src/experiments/warmup/examples.ts"
import { codeRecipe, mixtureAt, recipeHash } from "../../../src/experiments/warmup/recipe.ts"
import { auxPools, packBatch, stepExamples } from "../../../src/experiments/warmup/train.ts"

const domain = makeDomain(codeRecipe.domain) as Domain<ProblemBase>
const pool = examplePool(domain)

describe("warm-up examples", () => {
  test("the mixture moves toward mostly unhinted contexts, fewer skill hints later, memory contexts throughout", () => {
    const first = mixtureAt(codeRecipe.mixture, 1, codeRecipe.steps)
    const last = mixtureAt(codeRecipe.mixture, codeRecipe.steps, codeRecipe.steps)
    const sum = (w: typeof first): number => w.none + w.skill + w.solution + w.feedback + (w.memory ?? 0)
    expect(first.skill / sum(first)).toBeGreaterThan(0.2)
    expect(first.none / sum(first)).toBeLessThan(0.4)
    expect(last.none / sum(last)).toBeGreaterThan(0.6)
    expect(last.skill).toBeLessThan(first.skill)
    expect(last.feedback).toBeGreaterThan(0)
    expect(first.memory).toBeGreaterThan(0)
    expect(last.memory).toBeGreaterThan(0)
  })

  test("every kind is laid out by withBlocks: prompt, blocks, [ANS]; the response is the solution", () => {
    const kinds = new Set<string>()
    for (let step = 1; step <= 6; step++) {
      for (const e of stepExamples(codeRecipe, pool, step)) {
        kinds.add(e.kind)
        if (e.foreign) continue
        const p = domain.problem(e.problemId)
        expect(e.context[0]).toBe(Control.PROB)
        expect(e.context[e.context.length - 1]).toBe(Control.ANS)
        expect(e.response).toEqual(domain.solution(p))
        const opens = e.context.filter((t) => t === Control.BEH || t === Control.SOL || t === Control.FB || t === Control.STRAT || t === Control.LESSON)
        if (e.kind === "none") expect(opens).toEqual([])
        if (e.kind === "memory") {
          expect(opens.length).toBeGreaterThan(0)
          expect(e.context.length).toBeLessThanOrEqual(codeRecipe.mixture.memory!.budget)
        }
        if (e.kind === "solution") {
          const at = e.context.indexOf(Control.SOL)
          expect(e.context.slice(at, at + body(e.response).length + 2)).toEqual([Control.SOL, ...body(e.response), Control.END])
        }
        if (e.kind === "skill") {
          const at = e.context.indexOf(Control.BEH)
          const inner = e.context.slice(at + 1, e.context.indexOf(Control.END, at))
          const items = inner.join(",").split(`,${Control.SEP},`).map((s) => s)
          expect(items.length).toBeGreaterThanOrEqual(1)
          expect(items.length).toBeLessThanOrEqual(3)
          expect(items).toContain(domain.skill(p).join(","))
        }
      }
    }
    expect([...kinds].sort()).toEqual(["feedback", "memory", "none", "skill", "solution"])
  })

  test("foreign contexts: only skill / solution / memory contexts, built on auxiliary problems", () => {
    const foreign = auxPools(codeRecipe)
    expect(foreign.length).toBe(codeRecipe.auxSeeds.length)
    const all = Array.from({ length: 8 }, (_, i) => stepExamples(codeRecipe, pool, i + 1, foreign)).flat()
    const f = all.filter((e) => e.foreign)
    expect(f.length).toBeGreaterThan(0)
    for (const e of f) {
      expect(["skill", "solution", "memory"]).toContain(e.kind)
      // ids repeat across auxiliary domains (same id scheme), so match id and solution together
      const match = foreign.some((x) => x.problems.some((p) => p.id === e.problemId && x.domain.solution(p).join() === e.response.join()))
      expect(match).toBe(true)
    }
    const hinted = all.filter((e) => e.kind === "skill" || e.kind === "solution" || e.kind === "memory")
    expect(f.length / hinted.length).toBeGreaterThan(codeRecipe.mixture.foreign - 0.2)
    expect(f.length / hinted.length).toBeLessThan(codeRecipe.mixture.foreign + 0.2)
  })

  test("a feedback block comes from a failed attempt and is complete", () => {
    for (const p of pool.problems.slice(0, 40)) {
      const fb = failedFeedback(pool, p, Rng.root(3).fork(p.id))
      if (fb === undefined) continue
      expect(fb[0]).toBe(Control.FB)
      expect(fb[fb.length - 1]).toBe(Control.END)
    }
  })

  test("examples are re-drawn on every visit and depend only on (seed, step, problem)", () => {
    const p = pool.problems[5]!
    const w = mixtureAt(codeRecipe.mixture, 1, codeRecipe.steps)
    const a = makeExample(pool, p, codeRecipe.mixture, w, Rng.root(1).fork("visit", 1, p.id))
    const b = makeExample(pool, p, codeRecipe.mixture, w, Rng.root(1).fork("visit", 1, p.id))
    const c = makeExample(pool, p, codeRecipe.mixture, w, Rng.root(1).fork("visit", 2, p.id))
    expect(b).toEqual(a)
    expect(c.context).not.toEqual(a.context)
    expect(stepExamples(codeRecipe, pool, 7)).toEqual(stepExamples(codeRecipe, pool, 7))
  })

  test("packBatch weights exactly the positions that predict response tokens", () => {
    const ex = stepExamples(codeRecipe, pool, 1).slice(0, 3)
    const { tokens, weights, T } = packBatch(ex, codeRecipe.model.contextLength)
    expect(T % 8).toBe(0)
    ex.forEach((e, b) => {
      const predicted: Array<number> = []
      for (let t = 0; t < T - 1; t++) if (weights[b * T + t] === 1) predicted.push(tokens[b * T + t + 1]!)
      expect(predicted).toEqual(e.response)
    })
  })

  test("the recipe hash is stable for equal recipes and changes with any knob", () => {
    expect(recipeHash({ ...codeRecipe })).toBe(recipeHash(codeRecipe))
    expect(recipeHash({ ...codeRecipe, steps: codeRecipe.steps + 1 })).not.toBe(recipeHash(codeRecipe))
  })
})
