/** checkConsolidator passes the built-in and catches each deliberately broken consolidator, with a shrunk counterexample. */
import { describe, expect, it } from "vitest"
import { pmdConsolidator } from "../../src/plugins/builtins.ts"
import { checkConsolidator, CONSOLIDATOR_INVARIANTS, InvariantViolation } from "../../src/testing/index.ts"
import { brokenConsolidators } from "./broken.ts"

const violation = (f: () => unknown): InvariantViolation => {
  try {
    f()
  } catch (e) {
    if (e instanceof InvariantViolation) return e
    throw e
  }
  throw new Error("the battery passed a broken plug-in")
}

describe("checkConsolidator", () => {
  it("passes the built-in consolidator on 300 cases", () => {
    const r = checkConsolidator(pmdConsolidator, { numRuns: 300 })
    expect(r.numRuns).toBe(300)
    expect(r.invariants).toEqual(CONSOLIDATOR_INVARIANTS)
  })

  it("covers every invariant with a broken consolidator", () => {
    expect(new Set(brokenConsolidators.map((b) => b.breaks))).toEqual(new Set(CONSOLIDATOR_INVARIANTS))
  })

  it.each(brokenConsolidators.map((b) => [b.plugin.name, b] as const))("catches %s", (_, { plugin, breaks }) => {
    const e = violation(() => checkConsolidator(plugin))
    expect(e.invariant).toBe(breaks)
    expect(e.subject).toBe(plugin.name)
    expect(e.message).toContain(`checkConsolidator("${plugin.name}"): invariant "${breaks}" fails`)
    expect(e.message).toMatch(/counterexample \(shrunk \d+ times?\):\n {2}capacity \d+/)
    expect(e.message).toContain("prior bank:")
    expect(e.numShrinks).toBeGreaterThan(0)
    // shrunk: a handful of problems, not the generator's worst case
    expect((e.counterexample.match(/^ {4}p\d+: /gm) ?? []).length).toBeLessThanOrEqual(12)
    // the printed replay reproduces the same failure on its first run
    expect(violation(() => checkConsolidator(plugin, { ...e.replay, numRuns: 1 })).invariant).toBe(breaks)
  })
})
