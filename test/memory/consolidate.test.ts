import { test as fcTest } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { type BehaviorBank, contentVector, emptyBank } from "../../src/memory/behavior/behavior.ts"
import { consolidate } from "../../src/memory/behavior/consolidate.ts"
import { recordUses } from "../../src/memory/behavior/usage.ts"
import { dot } from "../../src/memory/embed/vec.ts"
import type { ProblemInsights } from "../../src/memory/insight/insights.ts"
import { pmdConsolidator } from "../../src/plugins/builtins.ts"
import { checkConsolidator, consolidatorCase, testEmbedder as embed } from "../../src/testing/index.ts"

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

const ctx = { step: 5, policyVersion: 3 }

describe("consolidator", () => {
  it("keeps every consolidator invariant of pmdsim/testing: caps, provenance, edits, monotone counters, successes, determinism, order independence", () => {
    checkConsolidator(pmdConsolidator, { numRuns: 1000 })
  })

  fcTest.prop([consolidatorCase()], { numRuns: 500 })("PMD's own promises: idempotent, no near-duplicates", ({ input, config }) => {
    const once = consolidate(input, embed, config)
    noNearDuplicates(once.bank, config.dupThreshold)
    // idempotent: a second run on the same input changes nothing
    const twice = consolidate({ ...input, bank: once.bank }, embed, config)
    expect(twice.edits).toEqual([])
    expect(twice.bank).toEqual(once.bank)
  })

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
