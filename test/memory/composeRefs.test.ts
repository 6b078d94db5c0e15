/**
 * compose's lineage output (`itemIds`): exactly the memory items rendered, named by their ids, in block
 * order; items from the current batch (a sibling solution, the rollout's own feedback) and items dropped for
 * the budget are not named; the ids never change the tokens. And the teacher contexts carry them (`refs`),
 * empty when a context is masked.
 */
import { test as fcTest, fc } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { type ContextOptions, type TeachItem, teacherContexts } from "../../actors/teacher/contexts.ts"
import { Control } from "../../src/domains/control.ts"
import { type Behavior, behaviorId } from "../../src/memory/behavior/behavior.ts"
import { emptyExperience, updateExperience } from "../../src/memory/experience/experience.ts"
import type { ProblemInsights } from "../../src/memory/insight/insights.ts"
import { compose, type MemoryLevels, type MemoryView } from "../../src/memory/retrieval/compose.ts"
import { attempts, embed, tokens } from "./gen.ts"

const prompt = [Control.PROB, 20, 21, Control.ANS]
const src = { rolloutIds: ["r"], policyVersion: 0, step: 0 }
const insights: ProblemInsights = {
  problemId: "p",
  strategies: [
    { id: "ins-s1", problemId: "p", kind: "strategy", tokens: [40, 41], feedback: [], contrastive: true, confidence: 0.5, support: 2, sources: src },
    { id: "ins-s2", problemId: "p", kind: "strategy", tokens: [42], feedback: [], contrastive: true, confidence: 0.5, support: 3, sources: src }
  ],
  lessons: [{ id: "ins-l1", problemId: "p", kind: "lesson", tokens: [44], feedback: [Control.FB, 26, 17, Control.END], contrastive: true, confidence: 0.5, support: 1, sources: src }]
}
const beh = (id: string, kind: "skill" | "avoid", t: Array<number>): Behavior =>
  ({ id, kind, tokens: t, problemIds: ["p"], support: 1, hits: 0, successes: 0, sources: src, key: new Float32Array(2), cluster: "p" })
const experience = updateExperience(emptyExperience("p"), [
  { response: [40, 41, 42, Control.EOS], feedback: [], success: true, prov: { rolloutId: "s000001/p/r000", policyVersion: 0, step: 1, reward: 1 } },
  { response: [44, Control.EOS], feedback: [Control.FB, Control.ERR, 50, Control.END], success: false, prov: { rolloutId: "s000001/p/r001", policyVersion: 0, step: 1, reward: 0 } }
], embed).next

describe("compose names the memory items it renders", () => {
  it("stored solution and feedback by rollout id, insights and behaviors by id, in block order", () => {
    const c = compose({ experience, insights, behaviors: [beh("beh-x", "skill", [40, 41]), { kind: "avoid", tokens: [45] }] }, { prompt }, { levels: "EIB", budget: 100 })
    // STRAT (support order), LESSON, BEH (a behavior without an id gets its content id), SOL, FB
    expect(c.itemIds).toEqual(["ins-s2", "ins-s1", "ins-l1", "beh-x", behaviorId("avoid", [45]), "s000001/p/r000", "s000001/p/r001"])
  })

  it("a sibling solution or the rollout's own feedback is no memory item", () => {
    const c = compose({ experience }, { prompt }, { levels: "E", budget: 100, solution: [60, Control.EOS], feedback: [Control.FB, 51, Control.END] })
    expect(c.counts.SOL + c.counts.FB).toBe(2)
    expect(c.itemIds).toEqual([])
    // an empty own feedback suppresses the stored one (no FB block, no id)
    expect(compose({ experience }, { prompt }, { levels: "E", budget: 100, feedback: [] }).itemIds).toEqual(["s000001/p/r000"])
  })

  it("items dropped for the budget are not named", () => {
    // room for the prompt and the solution block only ([SOL] 40 41 42 [END])
    const c = compose({ experience, insights }, { prompt }, { levels: "EI", budget: prompt.length + 5 })
    expect(c.counts).toEqual({ STRAT: 0, LESSON: 0, BEH: 0, SOL: 1, FB: 0 })
    expect(c.itemIds).toEqual(["s000001/p/r000"])
  })

  const levelArb = fc.constantFrom<MemoryLevels>("none", "E", "EI", "EIB")
  fcTest.prop([attempts(8), levelArb, fc.integer({ min: 4, max: 60 }), fc.array(tokens(1, 4), { maxLength: 4 }), fc.boolean()], { numRuns: 500 })(
    "without batch items, one id per rendered item, each naming an item of the view; ids do not depend on anything but the view",
    (batch, levels, budget, behTokens, withIds) => {
      const exp = updateExperience(emptyExperience("p"), batch, embed).next
      const behaviors = behTokens.map((t, i) => (withIds ? beh(`beh-${i}`, i % 2 === 0 ? "skill" : "avoid", t) : { kind: i % 2 === 0 ? "skill" as const : "avoid" as const, tokens: t }))
      const view: MemoryView = { experience: exp, insights, behaviors }
      const c = compose(view, { prompt }, { levels, budget })
      const rendered = c.counts.STRAT + c.counts.LESSON + c.counts.BEH + c.counts.SOL + c.counts.FB
      expect(c.itemIds).toHaveLength(rendered)
      const known = new Set([
        ...[...exp.successes, ...exp.failures].map((i) => i.id), ...[...insights.strategies, ...insights.lessons].map((i) => i.id),
        ...behaviors.map((b) => ("id" in b ? b.id : behaviorId(b.kind, b.tokens)))
      ])
      for (const id of c.itemIds) expect(known.has(id)).toBe(true)
      // the same view without ids on its behaviors renders the same tokens
      const bare = compose({ ...view, behaviors: behaviors.map((b) => ({ kind: b.kind, tokens: b.tokens })) }, { prompt }, { levels, budget })
      expect(bare.tokens).toEqual(c.tokens)
    }
  )
})

describe("teacher contexts carry the item ids", () => {
  const fb = [Control.FB, 50, 51, Control.END]
  const item = (index: number, reward: number): TeachItem => ({
    rolloutId: `s000002/p/r00${index}`, problemId: "p", index, prompt, response: [60 + index, Control.EOS], reward, feedback: reward >= 1 ? [] : fb
  })
  const opts = (o: Partial<ContextOptions> = {}): ContextOptions => ({
    levels: "EI", budget: 112, successThreshold: 1, includeFeedback: true, dontRepromptOnSelfSuccess: true, ...o
  })

  it("refs are compose's ids; a masked context (teacherNeedsSolution, nothing to show) has none", () => {
    const noSolution: MemoryView = { insights }
    const [a] = teacherContexts([item(0, 0)], () => noSolution, opts())
    expect(a!.kind).toBe("feedback")
    expect(a!.refs).toEqual(["ins-s2", "ins-s1", "ins-l1"])
    const [masked] = teacherContexts([item(0, 0)], () => noSolution, opts({ teacherNeedsSolution: true }))
    expect(masked!.context).toBeNull()
    expect(masked!.refs).toEqual([])
    const [sdpo] = teacherContexts([item(0, 0)], () => ({ experience, insights }), opts({ levels: "none" }))
    expect(sdpo!.refs).toEqual([])
  })

  it("a sibling's solution replaces the stored one, which is then not named", () => {
    const ctx = teacherContexts([item(0, 0), item(1, 1)], () => ({ experience, insights }), opts())
    expect(ctx[0]!.kind).toBe("sibling")
    expect(ctx[0]!.refs).toEqual(["ins-s2", "ins-s1", "ins-l1"])
  })
})
