import { describe, expect, it } from "vitest"
import { EmptySampleError } from "../../src/report/errors.ts"
import {
  compareKnobValues, curveOverSeeds, groupBy, groupByMethod, groupBySetting, meanCI, settingLabel, tCritical95
} from "../../src/report/stats.ts"
import type { RunData } from "../../src/protocol/metrics.ts"

const run = (name: string, method: string, seed: number, knobs: RunData["knobs"] = {}): RunData => ({ name, method, seed, knobs, rows: [] })

describe("tCritical95", () => {
  it("reads the two-sided 95% t table, conservatively between entries, normal past 120", () => {
    expect(tCritical95(0)).toBe(0)
    expect(tCritical95(1)).toBe(12.706)
    expect(tCritical95(2)).toBe(4.303)
    expect(tCritical95(4)).toBe(2.776)
    expect(tCritical95(30)).toBe(2.042)
    expect(tCritical95(35)).toBe(2.042) // next lower entry: a slightly wider interval
    expect(tCritical95(120)).toBe(1.98)
    expect(tCritical95(1000)).toBe(1.96)
  })
})

describe("meanCI", () => {
  it("matches a hand computation for n = 4", () => {
    // mean 2.5; squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5; sd = sqrt(5/3); half = 3.182 sd / 2
    const s = meanCI([1, 2, 3, 4])
    expect(s.n).toBe(4)
    expect(s.mean).toBe(2.5)
    expect(s.sd).toBeCloseTo(1.2909944, 6)
    expect(s.half).toBeCloseTo((3.182 * Math.sqrt(5 / 3)) / 2, 12)
    expect(s.half).toBeCloseTo(2.0539721, 6)
    expect(s.lo).toBeCloseTo(2.5 - 2.0539721, 6)
    expect(s.hi).toBeCloseTo(2.5 + 2.0539721, 6)
  })

  it("matches a hand computation for two seeds (t = 12.706)", () => {
    // mean 0.4; sd = sqrt(0.02) = 0.141421; half = 12.706 * 0.141421 / sqrt(2) = 1.2706
    const s = meanCI([0.3, 0.5])
    expect(s.mean).toBeCloseTo(0.4, 12)
    expect(s.half).toBeCloseTo(1.2706, 9)
  })

  it("gives a zero-width interval for one seed and for identical values", () => {
    expect(meanCI([0.42])).toEqual({ n: 1, mean: 0.42, sd: 0, half: 0, lo: 0.42, hi: 0.42 })
    const same = meanCI([0.25, 0.25, 0.25])
    expect(same.half).toBe(0)
    expect(same.lo).toBe(same.hi)
  })

  it("rejects an empty sample with a typed error", () => {
    expect(() => meanCI([], "pmd transfer")).toThrow(EmptySampleError)
    try {
      meanCI([], "pmd transfer")
    } catch (e) {
      expect((e as EmptySampleError)._tag).toBe("EmptySampleError")
      expect((e as Error).message).toContain("pmd transfer")
    }
  })
})

describe("groupings", () => {
  it("groupBy sorts numeric keys numerically and keeps item order inside a group", () => {
    const groups = groupBy([10, 9, 2, 10.5, 9.5], (x) => Math.floor(x))
    expect(groups.map((g) => g.key)).toEqual([2, 9, 10])
    expect(groups[2]!.items).toEqual([10, 10.5])
  })

  it("groupByMethod puts methods in the paper's order, unknown ones after by name", () => {
    const runs = [run("a", "pmd", 1), run("b", "zeta", 1), run("c", "GRPO", 1), run("d", "alpha", 1), run("e", "sdpo", 1), run("f", "pmd", 2)]
    const groups = groupByMethod(runs)
    expect(groups.map((g) => g.key)).toEqual(["GRPO", "sdpo", "pmd", "alpha", "zeta"])
    expect(groups[2]!.items.map((r) => r.seed)).toEqual([1, 2])
  })

  it("groupBySetting orders knob values numerically and labels settings by the knobs asked for", () => {
    const runs = [
      run("p10", "pmd", 1, { "memory.lag": 10, teacher: "ema" }),
      run("p2", "pmd", 1, { "memory.lag": 2, teacher: "ema" }),
      run("p2b", "pmd", 2, { "memory.lag": 2, teacher: "ema" }),
      run("s", "sdpo", 1, { teacher: "ema" })
    ]
    const groups = groupBySetting(runs, ["memory.lag"])
    expect(groups.map((g) => g.key)).toEqual(["sdpo", "pmd · memory.lag=2", "pmd · memory.lag=10"])
    expect(groups[1]!.items.map((r) => r.name)).toEqual(["p2", "p2b"])
    expect(settingLabel(runs[0]!)).toBe("pmd · memory.lag=10, teacher=ema")
    expect(compareKnobValues(undefined, 0)).toBeLessThan(0)
    expect(compareKnobValues(2, 10)).toBeLessThan(0)
  })

  it("curveOverSeeds summarises each step over the runs that report it", () => {
    const data: Record<string, Array<readonly [number, number]>> = {
      a: [[1, 0.1], [2, 0.3]],
      b: [[1, 0.3], [2, 0.5], [3, 0.9]]
    }
    const curve = curveOverSeeds(["a", "b"], (k) => data[k]!)
    expect(curve.map((p) => [p.step, p.n])).toEqual([[1, 2], [2, 2], [3, 1]])
    expect(curve[0]!.mean).toBeCloseTo(0.2, 12)
    expect(curve[0]!.half).toBeCloseTo(12.706 * 0.1, 9) // sd = 0.1414, / sqrt 2 = 0.1
    expect(curve[2]).toMatchObject({ step: 3, mean: 0.9, half: 0 })
  })
})
