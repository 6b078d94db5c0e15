/** checkReflector passes the built-in and catches each deliberately broken reflector, with a shrunk counterexample. */
import { describe, expect, it } from "vitest"
import { pmdReflector } from "../../src/plugins/builtins.ts"
import { checkReflector, InvariantViolation, REFLECTOR_INVARIANTS } from "../../src/testing/index.ts"
import { brokenReflectors } from "./broken.ts"

describe("checkReflector", () => {
  it("passes the built-in reflector on 300 histories", () => {
    expect(checkReflector(pmdReflector, { numRuns: 300 }).invariants).toEqual(REFLECTOR_INVARIANTS)
  })

  it.each(brokenReflectors.map((b) => [b.plugin.name, b] as const))("catches %s", (_, { plugin, breaks }) => {
    let caught: unknown
    try {
      checkReflector(plugin)
    } catch (e) {
      caught = e
    }
    expect(caught).toBeInstanceOf(InvariantViolation)
    const e = caught as InvariantViolation
    expect(e.invariant).toBe(breaks)
    expect(e.message).toContain(`checkReflector("${plugin.name}"): invariant "${breaks}" fails: after batch `)
    expect(e.message).toMatch(/counterexample \(shrunk \d+ times?\):\n {2}maxPerKind \d+/)
    expect(e.message).toMatch(/s\d+\/p\/r\d+ (ok {2}|fail)/)
  })
})
