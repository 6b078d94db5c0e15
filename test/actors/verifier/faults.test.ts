import { describe, expect, it } from "vitest"
import { test as fcTest, fc } from "@fast-check/vitest"
import { InvalidFaultPlan, drawFault, validateFaultPlan, type FaultPlan } from "../../../actors/verifier/faults.ts"
import { verdictDigest } from "../../../actors/verifier/digest.ts"

const plan: FaultPlan = { seed: 9, crash: 0.2, hang: 0.1, slow: 0.2, flaky: 0.2, slowMillis: 5 }

describe("fault injection", () => {
  fcTest.prop([fc.string({ minLength: 1 }), fc.integer({ min: 0, max: 5 })], { seed: 1, numRuns: 200 })(
    "a fault depends only on (plan, rolloutId, attempt); the last attempt is clean unless persistent",
    (id, attempt) => {
      expect(drawFault(plan, id, attempt, 6)).toBe(drawFault({ ...plan }, id, attempt, 6))
      expect(drawFault(plan, id, 5, 6)).toBe("none")
      expect(drawFault({ ...plan, crash: 1, hang: 0, slow: 0, flaky: 0, persistent: true }, id, 5, 6)).toBe("crash")
    }
  )

  it("fault frequencies follow the plan", () => {
    const counts: Record<string, number> = {}
    for (let i = 0; i < 4000; i++) {
      const f = drawFault(plan, `r${i}`, 0, 3)
      counts[f] = (counts[f] ?? 0) + 1
    }
    expect(counts.crash! / 4000).toBeCloseTo(0.2, 1)
    expect(counts.hang! / 4000).toBeCloseTo(0.1, 1)
    expect(counts.none! / 4000).toBeCloseTo(0.3, 1)
  })

  it("rejects impossible plans", () => {
    expect(() => validateFaultPlan({ ...plan, crash: 0.9 })).toThrow(InvalidFaultPlan)
    expect(() => validateFaultPlan({ ...plan, slowMillis: -1 })).toThrow(InvalidFaultPlan)
  })

  it("the verdict digest covers every field", () => {
    const v = { reward: 0, passed: 1, total: 4, solved: false, feedback: [9, 10] }
    const d = verdictDigest(v)
    expect(verdictDigest({ ...v })).toBe(d)
    for (const w of [{ ...v, reward: 1 }, { ...v, passed: 2 }, { ...v, total: 3 }, { ...v, solved: true },
      { ...v, feedback: [9] }, { ...v, error: "parse" as const }]) expect(verdictDigest(w)).not.toBe(d)
  })
})
