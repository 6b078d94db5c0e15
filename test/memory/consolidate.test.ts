import { test as fcTest, fc } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { type Behavior, type BehaviorBank, contentVector, emptyBank } from "../../src/memory/behavior/behavior.ts"
import { consolidate, type ConsolidateConfig, defaultConsolidateConfig } from "../../src/memory/behavior/consolidate.ts"
import { recordUses } from "../../src/memory/behavior/usage.ts"
import { dot } from "../../src/memory/embed/vec.ts"
import type { Insight, ProblemInsights } from "../../src/memory/insight/insights.ts"
import { embed, shuffled, tokens } from "./gen.ts"

const insightArb = (kind: "strategy" | "lesson") =>
  fc.record({ t: tokens(2, 4), r: fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 3 }) })
    .map(({ t, r }): Omit<Insight, "problemId" | "id"> => ({
      kind, tokens: t, feedback: [], contrastive: false, confidence: 0.5, support: 1,
      sources: { rolloutIds: [...new Set(r.map((x) => `r${String(x).padStart(3, "0")}`))].sort(), policyVersion: 1, step: 1 }
    }))

/** A few problems whose prompts come from 2-3 latent templates (so clusters form), with insights. */
const inputArb = fc.array(fc.record({
  template: fc.integer({ min: 0, max: 2 }), noise: tokens(0, 2),
  strategies: fc.array(insightArb("strategy"), { maxLength: 3 }), lessons: fc.array(insightArb("lesson"), { maxLength: 2 })
}), { minLength: 1, maxLength: 8 }).map((ps) => {
  const problems = ps.map((p, i) => ({ id: `p${i}`, vec: embed([[30, 31, 32, 33], [40, 41, 42, 43], [50, 51, 52, 53]][p.template]!.concat(p.noise)) }))
  const insights: Array<ProblemInsights> = ps.map((p, i) => {
    const fix = (xs: Array<Omit<Insight, "problemId" | "id">>) =>
      [...new Map(xs.map((x, j) => [x.tokens.join(","), { ...x, problemId: `p${i}`, id: `ins-${i}-${x.kind}-${j}` }])).values()]
    return { problemId: `p${i}`, strategies: fix(p.strategies), lessons: fix(p.lessons) }
  })
  return { problems, insights }
})

const cfgArb = fc.record({ capacity: fc.integer({ min: 1, max: 12 }), dupThreshold: fc.double({ min: 0.5, max: 1, noNaN: true }) })
  .map((c): ConsolidateConfig => ({ ...defaultConsolidateConfig, ...c }))
const ctx = { step: 5, policyVersion: 3 }

const noNearDuplicates = (bank: BehaviorBank, threshold: number) => {
  const bs = bank.behaviors
  for (let i = 0; i < bs.length; i++) {
    for (let j = i + 1; j < bs.length; j++) {
      const a = contentVector(embed, bs[i]!.kind, bs[i]!.tokens)
      const b = contentVector(embed, bs[j]!.kind, bs[j]!.tokens)
      expect(dot(a, b)).toBeLessThan(threshold)
    }
  }
}

/** A bank built from one input, then used (hits / successes) so that removals can happen. */
const bankArb = fc.tuple(inputArb, fc.array(fc.tuple(fc.nat(20), fc.boolean()), { maxLength: 12 }))

describe("consolidator", () => {
  fcTest.prop([inputArb, bankArb, cfgArb, fc.integer()], { numRuns: 1000 })(
    "capacity, idempotence, order independence, no near-duplicates, provenance, monotone counters",
    (input, [seedInput, uses], cfg, seed) => {
      let bank = consolidate({ ...seedInput, bank: emptyBank, ctx: { step: 1, policyVersion: 1 } }, embed, cfg).bank
      if (bank.behaviors.length > 0) bank = recordUses(bank, uses.map(([k, s]) => ({ behaviorId: bank.behaviors[k % bank.behaviors.length]!.id, success: s })))
      const once = consolidate({ ...input, bank, ctx }, embed, cfg)
      expect(once.bank.behaviors.length).toBeLessThanOrEqual(cfg.capacity)
      noNearDuplicates(once.bank, cfg.dupThreshold)
      // idempotent: a second run on the same input changes nothing
      const twice = consolidate({ ...input, bank: once.bank, ctx }, embed, cfg)
      expect(twice.edits).toEqual([])
      expect(twice.bank).toEqual(once.bank)
      // independent of the arrival order of problems, insights and their lists
      const shuffledInput = {
        problems: shuffled(input.problems, seed),
        insights: shuffled(input.insights, seed + 1).map((p) => ({ ...p, strategies: shuffled(p.strategies, seed + 2), lessons: shuffled(p.lessons, seed + 3) }))
      }
      expect(consolidate({ ...shuffledInput, bank, ctx }, embed, cfg).bank).toEqual(once.bank)
      // provenance: every source is a rollout of some insight or of the previous bank; nothing removed silently
      const known = new Set([...input.insights, ...seedInput.insights].flatMap((p) => [...p.strategies, ...p.lessons].flatMap((i) => i.sources.rolloutIds)))
      for (const b of once.bank.behaviors) {
        expect(b.sources.rolloutIds.length).toBeGreaterThan(0)
        for (const r of b.sources.rolloutIds) expect(known.has(r)).toBe(true)
        expect(b.support).toBe(b.problemIds.length)
      }
      const after = new Map(once.bank.behaviors.map((b) => [b.id, b]))
      const removed = new Set(once.edits.flatMap((e) => (e.op === "remove" ? [e.behavior.id] : [])))
      for (const b of bank.behaviors) {
        const now: Behavior | undefined = after.get(b.id)
        if (!now) {
          expect(removed.has(b.id)).toBe(true)
          continue
        }
        expect(now.support).toBeGreaterThanOrEqual(b.support)
        expect(now.hits).toBeGreaterThanOrEqual(b.hits)
        expect(now.successes).toBeGreaterThanOrEqual(b.successes)
        for (const r of b.sources.rolloutIds) expect(now.sources.rolloutIds).toContain(r)
      }
    }
  )

  it("cold start: a cluster sharing a skill gets 3-8 behaviors, the skill first", () => {
    const problems = Array.from({ length: 6 }, (_, i) => ({ id: `p${i}`, vec: embed([30, 31, 32, 33, 16 + i]) }))
    const src = (i: number) => ({ rolloutIds: [`r${i}`], policyVersion: 1, step: 1 })
    const insights: Array<ProblemInsights> = problems.map((p, i) => ({
      problemId: p.id,
      strategies: [{ id: `s${i}`, problemId: p.id, kind: "strategy", tokens: [40, 41, 16 + i], feedback: [], contrastive: true, confidence: 0.5, support: 1, sources: src(i) }],
      lessons: [{ id: `l${i}`, problemId: p.id, kind: "lesson", tokens: [44, 45], feedback: [], contrastive: true, confidence: 0.5, support: 1, sources: src(100 + i) }]
    }))
    const r = consolidate({ problems, insights, bank: emptyBank, ctx }, embed)
    expect(r.clustering.clusters.length).toBe(1)
    expect(r.bank.behaviors.length).toBeGreaterThanOrEqual(3)
    expect(r.bank.behaviors.length).toBeLessThanOrEqual(8)
    const skill = r.bank.behaviors.find((b) => b.kind === "skill" && b.tokens.join() === "40,41")!
    expect(skill.support).toBe(6)
    expect(skill.sources.rolloutIds).toEqual(["r0", "r1", "r2", "r3", "r4", "r5"])
    const avoid = r.bank.behaviors.find((b) => b.kind === "avoid")!
    expect(avoid.tokens).toEqual([44, 45])
    expect(r.edits.every((e) => e.op === "new")).toBe(true)
    // Memp deprecation: 3 hits, 1 success -> removed and retired at the next consolidation
    const used = recordUses(r.bank, [true, false, false].map((success) => ({ behaviorId: skill.id, success })))
    const next = consolidate({ problems, insights, bank: used, ctx }, embed)
    expect(next.bank.behaviors.some((b) => b.id === skill.id)).toBe(false)
    expect(next.edits).toContainEqual({ op: "remove", behavior: used.behaviors.find((b) => b.id === skill.id), reason: "deprecated" })
    expect(next.bank.retired).toEqual(["skill:40,41"])
  })
})
