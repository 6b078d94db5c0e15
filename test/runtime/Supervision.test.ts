import { assert, describe, it } from "@effect/vitest"
import { fc } from "@fast-check/vitest"
import { backoffMillis, exhausted, recordRestart, resolvePolicy } from "../../src/runtime/Supervision.ts"

describe("supervision policy", () => {
  const policy = resolvePolicy({ maxRestarts: 2, within: "10 seconds", backoff: "10 millis", maxBackoff: "1 second" })

  it("back-off doubles per consecutive crash and is capped", () => {
    assert.deepStrictEqual([1, 2, 3, 4].map((n) => backoffMillis(n, policy)), [10, 20, 40, 80])
    fc.assert(fc.property(fc.integer({ min: 1, max: 200 }), (n) => {
      const b = backoffMillis(n, policy)
      return b <= 1000 && b >= backoffMillis(Math.max(1, n - 1), policy)
    }))
  })

  it("the budget counts restarts inside the sliding window only", () => {
    let h = recordRestart([], 0, policy)
    h = recordRestart(h, 1000, policy)
    assert.isFalse(exhausted(h, policy))
    assert.isTrue(exhausted(recordRestart(h, 2000, policy), policy))
    // 11 s later the first two have left the window
    assert.isFalse(exhausted(recordRestart(h, 11_000, policy), policy))
  })

  it("rejects a nonsensical budget", () => {
    assert.throws(() => resolvePolicy({ maxRestarts: -1 }), /maxRestarts/)
    assert.throws(() => resolvePolicy({ maxRestarts: 1.5 }), /maxRestarts/)
    assert.throws(() => resolvePolicy({ within: "soon" as never }), /supervision.within: not a valid duration/)
    assert.throws(() => resolvePolicy({ backoff: -5 }), /supervision.backoff/)
  })
})
