import { fc, test as fcTest } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { NumericInputError } from "../../../src/numeric/errors.ts"
import { groupAdvantages } from "../../../src/numeric/losses/advantages.ts"

/** Reference: TRL's formula on explicit groups, written with plain loops. */
const reference = (rewards: ReadonlyArray<number>, ids: ReadonlyArray<number>, scale: string): Array<number> => {
  const std = (xs: Array<number>) => {
    if (xs.length < 2) return 0
    const m = xs.reduce((a, b) => a + b, 0) / xs.length
    return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1))
  }
  const all = rewards.filter((r) => !Number.isNaN(r))
  return rewards.map((r, i) => {
    if (Number.isNaN(r)) return 0
    const g = rewards.filter((q, j) => ids[j] === ids[i] && !Number.isNaN(q))
    const mean = g.reduce((a, b) => a + b, 0) / g.length
    if (scale === "none") return r - mean
    return (r - mean) / ((scale === "group" ? std(g) : std(all)) + 1e-4)
  })
}

const rewardsArb = fc.integer({ min: 1, max: 12 }).chain((n) =>
  fc.record({
    rewards: fc.array(fc.oneof(fc.constantFrom(0, 1, Number.NaN), fc.integer({ min: -3000, max: 3000 }).map((k) => k / 1000)), { minLength: n, maxLength: n }),
    ids: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: n, maxLength: n }),
    scale: fc.constantFrom("group", "batch", "none") as fc.Arbitrary<"group" | "batch" | "none">
  })
)

describe("groupAdvantages", () => {
  fcTest.prop([rewardsArb], { seed: 3, numRuns: 60 })("matches the plain-loop reference", ({ rewards, ids, scale }) => {
    const got = groupAdvantages(rewards, ids, { scaleRewards: scale })
    const want = reference(rewards, ids, scale)
    want.forEach((w, i) => expect(Math.abs(got[i]! - w)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(w))))
  })

  fcTest.prop([fc.array(fc.constantFrom(0, 1), { minLength: 2, maxLength: 8 })], { seed: 4, numRuns: 30 })(
    "group advantages sum to zero, and an all-equal group gets exactly zero",
    (rs) => {
      const a = groupAdvantages(rs, rs.map(() => 0))
      expect(Math.abs(a.reduce((s, x) => s + x, 0))).toBeLessThan(1e-5)
      if (rs.every((r) => r === rs[0])) expect(Array.from(a).every((x) => x === 0)).toBe(true)
    }
  )

  it("known values: one success in four, Bessel std", () => {
    // mean 0.25, std sqrt(0.75 / 3) = 0.5
    const a = groupAdvantages([1, 0, 0, 0], [7, 7, 7, 7])
    expect(a[0]).toBeCloseTo(0.75 / 0.5001, 5)
    expect(a[1]).toBeCloseTo(-0.25 / 0.5001, 5)
    expect(Array.from(groupAdvantages([1, 0, 0, 0], [7, 7, 7, 7], { scaleRewards: "none" }))).toEqual([0.75, -0.25, -0.25, -0.25])
  })

  it("rejects mismatched lengths, bad ids and unknown modes", () => {
    expect(() => groupAdvantages([1, 0], [0])).toThrow(NumericInputError)
    expect(() => groupAdvantages([1, 0], [0, 0.5])).toThrow(NumericInputError)
    expect(() => groupAdvantages([1, Infinity], [0, 0])).toThrow(NumericInputError)
    expect(() => groupAdvantages([1, 0], [0, 0], { scaleRewards: "x" as "group" })).toThrow(NumericInputError)
  })
})
