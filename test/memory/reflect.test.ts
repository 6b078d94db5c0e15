import { test as fcTest } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { emptyExperience, updateExperience, type ProblemExperience } from "../../src/memory/experience/experience.ts"
import { containsGram } from "../../src/memory/insight/ngrams.ts"
import { reflect } from "../../src/memory/insight/reflect.ts"
import { attempts, testEmbedder as embed } from "../../src/testing/arbitraries.ts"

const ctx = { step: 3, policyVersion: 2 }
const item = (id: string, response: Array<number>, success: boolean, feedback: Array<number> = []) =>
  ({ response, feedback, success, prov: { rolloutId: id, policyVersion: 1, step: 1, reward: success ? 1 : 0 } })

describe("reflector", () => {
  it("contrastive: finds the sub-procedure shared by successes and the divergent failure pattern", () => {
    // successes share the "skill" 40 41; the failure diverges at step 1 and does 44 45 instead
    const exp = updateExperience(emptyExperience("p"), [
      item("s1", [30, 40, 41, 2], true), item("s2", [31, 40, 41, 2], true), item("s3", [40, 41, 33, 2], true),
      item("f1", [30, 44, 45, 2], false, [9, 26, 17, 10])
    ], embed, { maxSuccesses: 5, maxFailures: 3, dupThreshold: 1 }).next
    const ins = reflect(exp, ctx)
    const strat = ins.filter((i) => i.kind === "strategy")
    const lesson = ins.filter((i) => i.kind === "lesson")
    expect(strat[0]!.tokens).toEqual([40, 41])
    expect(strat[0]!.sources.rolloutIds).toEqual(["s1", "s2", "s3"])
    expect(strat[0]!.contrastive).toBe(true)
    expect(strat[0]!.confidence).toBeCloseTo(3 / 4)
    expect(lesson[0]!.tokens).toEqual([44, 45])
    expect(lesson[0]!.feedback).toEqual([9, 26, 17, 10])
    expect(lesson[0]!.sources).toEqual({ rolloutIds: ["f1"], policyVersion: 2, step: 3 })
  })

  it("failures only: a recurring mistake becomes a lesson", () => {
    const exp = updateExperience(emptyExperience("p"), [item("f1", [30, 44, 45], false, [9, 1, 10]), item("f2", [31, 44, 45], false)], embed,
      { maxSuccesses: 5, maxFailures: 3, dupThreshold: 1 }).next
    const ins = reflect(exp, ctx)
    expect(ins.every((i) => i.kind === "lesson")).toBe(true)
    expect(ins[0]!.tokens).toEqual([44, 45])
    expect(ins[0]!.sources.rolloutIds).toEqual(["f1", "f2"])
  })

  const expArb = attempts(12).map((b): ProblemExperience => updateExperience(emptyExperience("p"), b, embed, { maxSuccesses: 5, maxFailures: 3, dupThreshold: 0.97 }).next)

  fcTest.prop([expArb], { numRuns: 1000 })("never invents tokens; provenance is the experience; contrast holds", (exp) => {
    const ins = reflect(exp, ctx)
    const byId = new Map([...exp.successes, ...exp.failures].map((i) => [i.id, i]))
    for (const i of ins) {
      expect(i.tokens.length).toBeGreaterThan(0)
      expect(i.sources.rolloutIds.length).toBeGreaterThan(0)
      for (const r of i.sources.rolloutIds) {
        const src = byId.get(r)
        expect(src).toBeDefined()
        expect(containsGram(src!.response, i.tokens)).toBe(true)
      }
      if (i.kind === "strategy") {
        expect(i.sources.rolloutIds.every((r) => byId.get(r)!.success)).toBe(true)
        for (const f of exp.failures) expect(containsGram(f.response, i.tokens)).toBe(false)
      } else {
        expect(i.sources.rolloutIds.every((r) => !byId.get(r)!.success)).toBe(true)
        if (exp.successes.length > 0) for (const s of exp.successes) expect(containsGram(s.response, i.tokens)).toBe(false)
      }
      expect(i.confidence).toBe(exp.solved / exp.attempts)
    }
    expect(ins.filter((i) => i.kind === "strategy").length).toBeLessThanOrEqual(3)
    expect(ins.filter((i) => i.kind === "lesson").length).toBeLessThanOrEqual(3)
    expect(reflect(exp, ctx)).toEqual(ins)
  })
})
