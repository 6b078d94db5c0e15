import { describe, expect, it } from "vitest"
import { test as fcTest, fc } from "@fast-check/vitest"
import { Rng } from "../../src/core/Rng.ts"

const draw = (r: Rng, n: number) => Array.from({ length: n }, () => r.float())

describe("Rng", () => {
  it("same key, same stream; different key, different stream", () => {
    expect(draw(Rng.root(7).fork("a", 1), 20)).toEqual(draw(Rng.root(7).fork("a", 1), 20))
    expect(draw(Rng.root(7).fork("a", 1), 20)).not.toEqual(draw(Rng.root(7).fork("a", 2), 20))
    expect(draw(Rng.root(7), 5)).not.toEqual(draw(Rng.root(8), 5))
  })

  fcTest.prop([fc.nat(200), fc.string(), fc.integer()], { seed: 4, numRuns: 50 })(
    "a fork does not depend on the parent's position",
    (k, name, i) => {
      const parent = Rng.root(1)
      const before = draw(parent.fork(name, i), 5)
      draw(parent, k)
      expect(draw(parent.fork(name, i), 5)).toEqual(before)
    }
  )

  it("snapshot/restore resumes at the exact position", () => {
    const r = Rng.root("run").fork("x")
    draw(r, 13)
    const snap = r.snapshot()
    const expected = draw(r, 10)
    expect(draw(Rng.restore(snap), 10)).toEqual(expected)
  })

  it("ints cover their range and stay inside it; floats are in [0, 1)", () => {
    const r = Rng.root(3)
    const seen = new Set<number>()
    for (let i = 0; i < 2000; i++) {
      const v = r.int(-2, 3)
      expect(v).toBeGreaterThanOrEqual(-2)
      expect(v).toBeLessThanOrEqual(3)
      seen.add(v)
      const f = r.float()
      expect(f >= 0 && f < 1).toBe(true)
    }
    expect(seen.size).toBe(6)
  })

  it("shuffle is a permutation and weighted respects zero weights", () => {
    const r = Rng.root(5)
    const xs = Array.from({ length: 50 }, (_, i) => i)
    expect([...r.shuffle(xs)].sort((a, b) => a - b)).toEqual(xs)
    for (let i = 0; i < 200; i++) expect(r.weighted([0, 1, 0, 2])).not.toBe(0)
  })
})
