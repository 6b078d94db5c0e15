import { test as fcTest, fc } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { dot } from "../../src/memory/embed/vec.ts"
import { emptyExperience, type ExperienceConfig, updateExperience } from "../../src/memory/experience/experience.ts"
import { MemoryInputError } from "../../src/memory/types.ts"
import { attempts, testEmbedder as embed, shuffled } from "../../src/testing/arbitraries.ts"

const cfgArb = fc.record({ maxSuccesses: fc.integer({ min: 0, max: 5 }), maxFailures: fc.integer({ min: 0, max: 3 }), dupThreshold: fc.double({ min: 0.5, max: 1, noNaN: true }) })
const prov = (id: string) => ({ rolloutId: id, policyVersion: 0, step: 0, reward: 1 })

describe("experience memory", () => {
  fcTest.prop([fc.array(attempts(), { maxLength: 5 }), cfgArb], { numRuns: 1000 })(
    "capacity bounds, gate and counters hold after any update sequence",
    (batches, cfg: ExperienceConfig) => {
      let e = emptyExperience("p")
      for (const b of batches) {
        const u = updateExperience(e, b, embed, cfg)
        expect(u.next.successes.length).toBeLessThanOrEqual(cfg.maxSuccesses)
        expect(u.next.failures.length).toBeLessThanOrEqual(cfg.maxFailures)
        expect(u.next.attempts).toBe(e.attempts + b.length)
        expect(u.next.solved).toBeGreaterThanOrEqual(e.solved)
        // every stored item is a newcomer or was already stored; every item keeps its provenance
        for (const it of [...u.next.successes, ...u.next.failures]) expect(it.id).toBe(it.prov.rolloutId)
        // accounting: stored + duplicates + evicted newcomers = offered
        const ids = new Set(b.map((a) => a.prov.rolloutId))
        const evictedNew = u.evicted.filter((x) => ids.has(x.id)).length
        expect(u.stored.length + u.duplicates.length + evictedNew).toBe(b.length)
        e = u.next
      }
    }
  )

  fcTest.prop([attempts(), fc.integer()], { numRuns: 1000 })("independent of arrival order", (batch, seed) => {
    const a = updateExperience(emptyExperience("p"), batch, embed).next
    const b = updateExperience(emptyExperience("p"), shuffled(batch, seed), embed).next
    expect(b).toEqual(a)
  })

  it("rejects a near-duplicate and evicts the most redundant item", () => {
    const cfg = { maxSuccesses: 2, maxFailures: 1, dupThreshold: 0.99 }
    const ok = (id: string, response: Array<number>) => ({ response, feedback: [], success: true, prov: prov(id) })
    let u = updateExperience(emptyExperience("p"), [ok("a", [20, 21, 22, 23]), ok("b", [20, 21, 22, 23])], embed, cfg)
    expect(u.duplicates).toEqual(["b"])
    u = updateExperience(u.next, [ok("c", [30, 31, 32, 33]), ok("d", [20, 21, 22, 24])], embed, cfg)
    // a and d share most n-grams: one of them goes (the smaller id on an exact tie), c stays
    const kept = u.next.successes.map((x) => x.id)
    expect(kept).toContain("c")
    expect(kept.length).toBe(2)
    const [x, y] = [embed([20, 21, 22, 23]), embed([20, 21, 22, 24])]
    expect(dot(x, y)).toBeGreaterThan(dot(x, embed([30, 31, 32, 33])))
  })

  it("a rollout offered twice is an error, not a silent overwrite", () => {
    const a = { response: [20], feedback: [], success: true, prov: prov("x") }
    const u = updateExperience(emptyExperience("p"), [a], embed)
    expect(() => updateExperience(u.next, [a], embed)).toThrow(MemoryInputError)
  })
})
