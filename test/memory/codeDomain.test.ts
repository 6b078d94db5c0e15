/**
 * End to end on the real code domain: solutions and broken variants verified by the domain's verifier,
 * experience -> reflection -> consolidation -> retrieval -> teacher context. The cluster skill (the
 * shared 2-op sub-procedure) must come out as a behavior retrieved for the cluster's problems.
 */
import { describe, expect, it } from "vitest"
import { Rng } from "../../src/core/Rng.ts"
import { makeCodeDomain } from "../../src/domains/index.ts"
import { containsGram } from "../../src/memory/insight/ngrams.ts"
import { consolidateMemory, recordRollouts, reflectProblems } from "../../src/memory/pipeline.ts"
import { compose } from "../../src/memory/retrieval/compose.ts"
import { behaviorIndex, retrieveBehaviors } from "../../src/memory/retrieval/retrieve.ts"
import { emptyMemory } from "../../src/memory/state.ts"
import { testEmbedder as embed } from "../../src/testing/arbitraries.ts"

describe("memory on the code domain", () => {
  it("distils the cluster skill into a retrievable behavior", () => {
    const domain = makeCodeDomain({}, 7)
    const train = domain.problems("train")
    const cluster = train[0]!.cluster
    const problems = train.filter((p) => p.cluster === cluster).slice(0, 8)
    expect(problems.length).toBeGreaterThanOrEqual(3)
    const groups = problems.map((p) => {
      const sol = domain.solution(p)
      const skill = domain.skill(p)
      // a broken attempt: the skill's first op replaced by the token of another op
      const at = sol.findIndex((_, i) => containsGram(sol.slice(i, i + skill.length), skill))
      const broken = [...sol]
      broken[Math.max(0, at)] = broken[Math.max(0, at)] === 28 ? 29 : 28
      const attempts = [sol, broken].map((response, j) => {
        const v = domain.verify(p, response, "train")
        return { response, feedback: [...v.feedback], success: v.solved, prov: { rolloutId: `${p.id}/r${j}`, policyVersion: 0, step: 0, reward: v.reward } }
      })
      expect(attempts[0]!.success).toBe(true)
      return { problemId: p.id, attempts }
    })
    const ctx = { step: 0, policyVersion: 0 }
    let state = recordRollouts(emptyMemory, groups, embed).state
    state = reflectProblems(state, problems.map((p) => p.id), embed, ctx).state
    const vecs = problems.map((p) => ({ id: p.id, vec: embed(domain.prompt(p, Rng.root("visit").fork(p.id))) }))
    state = consolidateMemory(state, vecs, embed, ctx).state
    const skill = domain.skill(problems[0]!)
    const skills = state.bank.behaviors.filter((b) => b.kind === "skill")
    expect(skills.some((b) => containsGram(skill, b.tokens) || containsGram(b.tokens, skill))).toBe(true)
    const idx = behaviorIndex(state.bank)
    const top = retrieveBehaviors(idx, vecs[0]!.vec, 3)
    expect(top.length).toBeGreaterThan(0)
    const prompt = domain.prompt(problems[0]!, Rng.root("visit").fork("q"))
    const c = compose({ experience: state.experience.get(problems[0]!.id)!, insights: state.insights.get(problems[0]!.id)!, behaviors: top.map((r) => r.behavior) },
      { prompt }, { levels: "EIB", budget: prompt.length + 60 })
    expect(c.tokens.length).toBeLessThanOrEqual(prompt.length + 60)
    expect(c.counts.SOL).toBe(1)
  })
})
