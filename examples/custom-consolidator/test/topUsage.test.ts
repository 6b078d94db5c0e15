/** top-usage against pmdsim/testing's batteries, its own promise as a property, and its broken variant. */
import * as fc from "fast-check"
import { defaultConsolidateConfig, emptyBank, pmdConsolidator, recordUses } from "pmdsim/plugins"
import { checkConsolidator, checkMemoryPipeline, consolidationInput, InvariantViolation, testEmbedder } from "pmdsim/testing"
import { describe, expect, it } from "vitest"
import { topUsage } from "../src/topUsage.ts"
import { topUsageBroken } from "../src/topUsageBroken.ts"

describe("top-usage", () => {
  it("keeps every consolidator invariant", () => {
    checkConsolidator(topUsage, { numRuns: 300 })
  })

  it("keeps every invariant of the memory pipeline it runs in", () => {
    checkMemoryPipeline({ consolidator: topUsage }, { numRuns: 60 })
  })

  it("keeps the most-used behaviors: none cut for room was used more than one that stayed", () => {
    const uses = fc.array(fc.tuple(fc.nat(30), fc.boolean()), { maxLength: 20 })
    fc.assert(fc.property(consolidationInput(), uses, fc.integer({ min: 1, max: 4 }), (input, used, capacity) => {
      // a bank with room for everything, then used by teachers
      const wide = pmdConsolidator.consolidate({ ...input, bank: emptyBank, ctx: { step: 1, policyVersion: 1 } }, { embed: testEmbedder, config: defaultConsolidateConfig }).bank
      const bs = wide.behaviors
      const bank = bs.length === 0 ? wide : recordUses(wide, used.map(([k, success]) => ({ behaviorId: bs[k % bs.length]!.id, success })))
      const out = topUsage.consolidate({ ...input, bank, ctx: { step: 2, policyVersion: 1 } }, { embed: testEmbedder, config: { ...defaultConsolidateConfig, capacity } })
      expect(out.bank.behaviors.length).toBeLessThanOrEqual(capacity)
      const leastKept = Math.min(...out.bank.behaviors.map((b) => b.hits))
      const cut = (out.edits ?? []).flatMap((e) => (e.op === "remove" && e.reason === "capacity" ? [e.behavior] : []))
      for (const b of cut) expect(b.hits).toBeLessThanOrEqual(leastKept)
    }), { seed: 7, numRuns: 200 })
  })

  it("the broken variant (a grace period for new behaviors) is caught, with a shrunk counterexample", () => {
    let caught: unknown
    try {
      checkConsolidator(topUsageBroken)
    } catch (e) {
      caught = e
    }
    expect(caught).toBeInstanceOf(InvariantViolation)
    const e = caught as InvariantViolation
    expect(e.invariant).toBe("caps")
    expect(e.message).toContain(`checkConsolidator("top-usage-grace"): invariant "caps" fails`)
    expect(e.message).toContain("counterexample (shrunk")
    console.log(e.message)
  })
})
