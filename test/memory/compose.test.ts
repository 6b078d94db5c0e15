import { test as fcTest, fc } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { Control } from "../../src/domains/control.ts"
import type { Behavior } from "../../src/memory/behavior/behavior.ts"
import { emptyExperience, updateExperience } from "../../src/memory/experience/experience.ts"
import type { ProblemInsights } from "../../src/memory/insight/insights.ts"
import { BudgetError, compose, type MemoryLevels } from "../../src/memory/retrieval/compose.ts"
import { attempts, testEmbedder as embed, tokens } from "../../src/testing/arbitraries.ts"

const prompt = [Control.PROB, 20, 21, Control.ANS]
const src = { rolloutIds: ["r"], policyVersion: 0, step: 0 }
const insights: ProblemInsights = {
  problemId: "p",
  strategies: [{ id: "s1", problemId: "p", kind: "strategy", tokens: [40, 41], feedback: [], contrastive: true, confidence: 0.5, support: 2, sources: src }],
  lessons: [{ id: "l1", problemId: "p", kind: "lesson", tokens: [44], feedback: [Control.FB, 26, 17, Control.END], contrastive: true, confidence: 0.5, support: 1, sources: src }]
}
const beh = (id: string, kind: "skill" | "avoid", t: Array<number>): Behavior =>
  ({ id, kind, tokens: t, problemIds: ["p"], support: 1, hits: 0, successes: 0, sources: src, key: new Float32Array(2), cluster: "p" })

describe("compose", () => {
  it("renders the blocks in PMD App. B.2 order, before the prompt's [ANS]", () => {
    const exp = updateExperience(emptyExperience("p"), [
      { response: [40, 41, 42, Control.EOS], feedback: [], success: true, prov: { rolloutId: "a", policyVersion: 0, step: 1, reward: 1 } },
      { response: [44, Control.EOS], feedback: [Control.FB, Control.ERR, 50, Control.END], success: false, prov: { rolloutId: "b", policyVersion: 0, step: 1, reward: 0 } }
    ], embed).next
    const c = compose({ experience: exp, insights, behaviors: [beh("x", "skill", [40, 41]), beh("y", "avoid", [45])] }, { prompt }, { levels: "EIB", budget: 100 })
    expect(c.tokens).toEqual([
      Control.PROB, 20, 21,
      Control.STRAT, 40, 41, Control.END,
      Control.LESSON, Control.AVOID, 44, 26, 17, Control.END,
      Control.BEH, 40, 41, Control.SEP, Control.AVOID, 45, Control.END,
      Control.SOL, 40, 41, 42, Control.END,
      Control.FB, Control.ERR, 50, Control.END,
      Control.ANS
    ])
    expect(compose({ experience: exp, insights }, { prompt }, { levels: "E", budget: 100 }).counts).toEqual({ STRAT: 0, LESSON: 0, BEH: 0, SOL: 1, FB: 1 })
    expect(compose({ experience: exp }, { prompt }, { levels: "none", budget: 100 }).tokens).toEqual(prompt)
    expect(() => compose({}, { prompt }, { levels: "E", budget: 3 })).toThrow(BudgetError)
  })

  const levelArb = fc.constantFrom<MemoryLevels>("none", "E", "EI", "EIB")
  fcTest.prop([attempts(8), levelArb, fc.integer({ min: 4, max: 40 }), fc.array(tokens(1, 4), { maxLength: 4 }), fc.option(tokens(1, 5), { nil: undefined })], { numRuns: 1000 })(
    "stays within the budget, keeps the prompt, is deterministic, and items are never cut",
    (batch, levels, budget, behTokens, solution) => {
      const exp = updateExperience(emptyExperience("p"), batch, embed).next
      const view = { experience: exp, insights, behaviors: behTokens.map((t, i) => beh(`b${i}`, i % 2 === 0 ? "skill" : "avoid", t)) }
      const opts = { levels, budget, ...(solution ? { solution } : {}) }
      const c = compose(view, { prompt }, opts)
      expect(c.tokens.length).toBeLessThanOrEqual(budget)
      expect(c.tokens.slice(0, 3)).toEqual(prompt.slice(0, 3))
      expect(c.tokens[c.tokens.length - 1]).toBe(Control.ANS)
      expect(c.tokens).toEqual([...prompt.slice(0, 3), ...c.blocks, Control.ANS])
      expect(compose(view, { prompt }, opts)).toEqual(c)
      // block markers come in the paper's order
      const opens = c.blocks.filter((t) => [Control.STRAT, Control.LESSON, Control.BEH, Control.SOL, Control.FB].includes(t as 5))
      expect([...opens].sort((a, b) => [5, 6, 7, 8, 9].indexOf(a) - [5, 6, 7, 8, 9].indexOf(b))).toEqual(opens)
      if (levels !== "EIB") expect(c.counts.BEH).toBe(0)
      if (levels === "none" || levels === "E") expect(c.counts.STRAT + c.counts.LESSON).toBe(0)
    }
  )
})
