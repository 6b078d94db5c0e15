import { test as fcTest, fc } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { dot } from "../../src/memory/embed/vec.ts"
import { emptyExperience, updateExperience } from "../../src/memory/experience/experience.ts"
import { emptyInsights, type Insight, insightVector, updateInsights } from "../../src/memory/insight/insights.ts"
import { reflect } from "../../src/memory/insight/reflect.ts"
import { pmdReflector } from "../../src/plugins/builtins.ts"
import { attempts, testEmbedder as embed } from "../../src/testing/arbitraries.ts"
import { checkReflector } from "../../src/testing/index.ts"

const cfgArb = fc.record({ maxPerKind: fc.integer({ min: 0, max: 10 }), noveltyThreshold: fc.double({ min: 0.3, max: 1, noNaN: true }) })

describe("insight memory", () => {
  it("the built-in reflector keeps every reflector invariant of pmdsim/testing", () => {
    checkReflector(pmdReflector, { numRuns: 300 })
  })

  fcTest.prop([fc.array(attempts(8), { minLength: 1, maxLength: 6 }), cfgArb], { numRuns: 1000 })(
    "caps, novelty, monotone support and provenance across epochs",
    (batches, cfg) => {
      let exp = emptyExperience("p")
      let ins = emptyInsights("p")
      const seen = new Set<string>()
      batches.forEach((b, step) => {
        exp = updateExperience(exp, b, embed).next
        for (const a of b) seen.add(a.prov.rolloutId)
        const u = updateInsights(ins, reflect(exp, { step, policyVersion: step }), embed, cfg)
        const next = u.next
        for (const kind of ["strategies", "lessons"] as const) {
          const list: ReadonlyArray<Insight> = next[kind]
          expect(list.length).toBeLessThanOrEqual(cfg.maxPerKind)
          for (let i = 0; i < list.length; i++) {
            for (let j = i + 1; j < list.length; j++) {
              const a = list[i]!
              const c = list[j]!
              expect(dot(insightVector(embed, a.kind, a.tokens), insightVector(embed, c.kind, c.tokens))).toBeLessThan(cfg.noveltyThreshold)
            }
          }
          // accumulate: nothing stored is ever lost; support and sources only grow
          for (const old of ins[kind]) {
            const now = list.find((x) => x.id === old.id)
            expect(now).toBeDefined()
            expect(now!.support).toBeGreaterThanOrEqual(old.support)
            expect(old.sources.rolloutIds.every((r) => now!.sources.rolloutIds.includes(r))).toBe(true)
          }
          for (const x of list) for (const r of x.sources.rolloutIds) expect(seen.has(r)).toBe(true)
        }
        ins = next
      })
    }
  )
})
