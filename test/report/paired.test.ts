/** Paired statistics (issue #14, item 1): per-seed differences against a baseline, in the sweep summary, the console and the report. */
import { test as fcTest, fc } from "@fast-check/vitest"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { aggregate, type PlannedRun, readSweepSpec, SweepConfigError, writeSweepSummary } from "../../src/experiments/sweep.ts"
import type { EvalRow, RunData } from "../../src/protocol/metrics.ts"
import { renderReport } from "../../src/report/html.ts"
import { readSweepBaseline } from "../../src/report/load.ts"
import { writeReport } from "../../src/report/index.ts"
import {
  bootstrapInterval, formatPairedTable, matchesSetting, pairAgainstBaseline, pairedDifference, parseSettingName, runMetrics,
  RUN_METRICS, seedMetrics, seedsToResolve, settingName
} from "../../src/report/paired.ts"
import { syntheticRun, syntheticRuns, writeSweep } from "./synthetic.ts"

const seeds = (xs: ReadonlyArray<number>, first = 1): Map<number, number> => new Map(xs.map((x, i) => [first + i, x]))

const dirs: Array<string> = []
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), "pmdsim-paired-"))
  dirs.push(d)
  return d
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

describe("pairedDifference", () => {
  it("a 3-seed example computed by hand", () => {
    // baseline 0.50 0.40 0.60, other 0.55 0.48 0.62 at seeds 1 2 3: differences 0.05 0.08 0.02
    // mean 0.05; deviations 0, 0.03, -0.03: sum of squares 0.0018, variance 0.0018 / 2 = 0.0009, sd 0.03
    // half-width t(0.975, 2) · sd / √3 = 4.303 · 0.03 / 1.7320508 = 0.0745302: [-0.0245302, 0.1245302], contains 0
    // seeds needed, s_d / d = 0.6: normal n₀ = (1.959964 + 0.841621)² · 0.36 = 2.83, then t:
    //   n = 3: (4.303 + 1.061)² · 0.36 = 10.36 > 3;  n = 4: (3.182 + 0.978)² · 0.36 = 6.23 > 4
    //   n = 5: (2.776 + 0.941)² · 0.36 = 4.97 <= 5: 5 seeds
    const p = pairedDifference(seeds([0.5, 0.4, 0.6]), seeds([0.55, 0.48, 0.62]))!
    expect(p.seeds).toEqual([1, 2, 3])
    expect(p.diffs.map((d) => Number(d.toFixed(12)))).toEqual([0.05, 0.08, 0.02])
    expect(p.n).toBe(3)
    expect(p.mean).toBeCloseTo(0.05, 12)
    expect(p.sd).toBeCloseTo(0.03, 12)
    expect(p.half).toBeCloseTo(0.0745302, 6)
    expect(p.lo).toBeCloseTo(-0.0245302, 6)
    expect(p.hi).toBeCloseTo(0.1245302, 6)
    expect(p.resolved).toBe(false)
    expect(p.seedsNeeded).toBe(5)
  })

  it("a resolved 3-seed example computed by hand", () => {
    // differences 0.10 0.12 0.08: mean 0.10, sd 0.02, half 4.303 · 0.02 / √3 = 0.0496868: [0.0503, 0.1497] excludes 0
    // s_d / d = 0.2: n = 2: (12.706 + 1.376)² · 0.04 = 7.93 > 2; n = 3: (4.303 + 1.061)² · 0.04 = 1.15 <= 3: 3 seeds
    const p = pairedDifference(seeds([0.3, 0.3, 0.3]), seeds([0.4, 0.42, 0.38]))!
    expect(p.mean).toBeCloseTo(0.1, 12)
    expect(p.half).toBeCloseTo(0.0496868, 6)
    expect(p.resolved).toBe(true)
    expect(p.seedsNeeded).toBe(3)
  })

  it("pairs only the seeds both settings have", () => {
    const base = new Map([[2, 0.5], [3, 0.5], [5, 0.5]])
    const other = new Map([[1, 0.9], [2, 0.6], [3, 0.7], [4, 0.9]])
    const p = pairedDifference(base, other)!
    expect(p.seeds).toEqual([2, 3])
    expect(p.mean).toBeCloseTo(0.15, 12)
    expect(pairedDifference(new Map([[1, 0.5]]), new Map([[2, 0.5]]))).toBeNull()
  })

  it("one common seed, or no difference: no interval, nothing resolved, seeds needed undefined", () => {
    const one = pairedDifference(seeds([0.5]), seeds([0.7]))!
    expect(one).toMatchObject({ n: 1, half: 0, resolved: false, seedsNeeded: null })
    expect(seedsToResolve(0, 0.1, 5)).toBeNull()
    expect(seedsToResolve(0.1, 0, 5)).toBe(2)
    // large samples: the normal approximation (t = z past df 120), ((1.959964 + 0.841621) · 10)² = 784.9
    expect(seedsToResolve(0.01, 0.1, 5)).toBe(785)
  })

  const value = fc.integer({ min: 0, max: 256 }).map((k) => k / 256)
  const shift = fc.integer({ min: -256, max: 256 }).map((k) => k / 256)

  // dyadic values (k / 256): every sum and difference below is exact in floating point
  fcTest.prop([fc.array(value, { minLength: 2, maxLength: 8 }), shift])(
    "a setting shifted by a constant at every seed: a zero-width interval at the constant",
    (base, c) => {
      const p = pairedDifference(seeds(base), seeds(base.map((x) => x + c)))!
      expect(p.mean).toBe(c)
      expect(p.half).toBe(0)
      expect([p.lo, p.hi]).toEqual([c, c])
      expect(p.resolved).toBe(c !== 0)
      expect(p.seedsNeeded).toBe(c === 0 ? null : 2)
    }
  )

  fcTest.prop([fc.array(fc.tuple(value, value, shift), { minLength: 1, maxLength: 8 })])(
    "the same per-seed noise added to both settings leaves the paired interval unchanged",
    (xs) => {
      const plain = pairedDifference(seeds(xs.map(([a]) => a)), seeds(xs.map(([, b]) => b)), { bootstrap: { resamples: 200 } })
      const noisy = pairedDifference(seeds(xs.map(([a, , e]) => a + e)), seeds(xs.map(([, b, e]) => b + e)), { bootstrap: { resamples: 200 } })
      expect(noisy).toEqual(plain)
    }
  )
})

describe("bootstrapInterval", () => {
  it("is seeded (the same seed, the same interval), inside the range of the data, and a point for constant data", () => {
    const xs = [0.05, 0.08, 0.02, -0.01, 0.04]
    const a = bootstrapInterval(xs, { resamples: 2000, seed: 1 })
    expect(bootstrapInterval(xs, { resamples: 2000, seed: 1 })).toEqual(a)
    expect(a.resamples).toBe(2000)
    expect(a.lo).toBeGreaterThanOrEqual(-0.01)
    expect(a.hi).toBeLessThanOrEqual(0.08)
    expect(a.lo).toBeLessThan(0.036)
    expect(a.hi).toBeGreaterThan(0.036)
    expect(bootstrapInterval([0.25, 0.25, 0.25])).toMatchObject({ lo: 0.25, hi: 0.25 })
  })

  it("is off unless asked for", () => {
    expect(pairedDifference(seeds([0.5, 0.4]), seeds([0.6, 0.45]))!.bootstrap).toBeUndefined()
    expect(pairedDifference(seeds([0.5, 0.4]), seeds([0.6, 0.45]), { bootstrap: {} })!.bootstrap?.resamples).toBe(2000)
  })
})

describe("setting names and the baseline", () => {
  it("names a setting as the sweep does and matches a baseline that leaves knobs out", () => {
    expect(settingName("pmd", { "memory.lag": 2, "a.b": "x" })).toBe("pmd a.b=x memory.lag=2")
    expect(parseSettingName("pmd memory.lag=0 teacher=ema")).toEqual({ method: "pmd", knobs: { "memory.lag": "0", teacher: "ema" } })
    expect(matchesSetting("pmd", "pmd", { "memory.lag": 2 })).toBe(true)
    expect(matchesSetting("pmd memory.lag=0", "pmd", { "memory.lag": 2 })).toBe(false)
    expect(matchesSetting("pmd memory.lag=0", "pmd", { "memory.lag": 0 })).toBe(true)
    expect(matchesSetting("grpo", "pmd", {})).toBe(false)
  })

  it("pairs every other setting against the named baseline, else the first; says when the name matched nothing", () => {
    const s = (name: string, method: string, knobs: Record<string, number>, xs: ReadonlyArray<number>) =>
      seedMetrics(name, method, knobs, xs.map((x, i) => ({ seed: i + 1, metrics: { acc: x } })))
    const settings = [s("grpo", "grpo", {}, [0.3, 0.4]), s("pmd memory.lag=0", "pmd", { "memory.lag": 0 }, [0.5, 0.5]), s("pmd memory.lag=2", "pmd", { "memory.lag": 2 }, [0.4, 0.6])]
    const byDefault = pairAgainstBaseline(settings, undefined)!
    expect(byDefault.baseline).toBe("grpo")
    expect(byDefault.rows.map((r) => r.setting)).toEqual(["pmd memory.lag=0", "pmd memory.lag=2"])
    const named = pairAgainstBaseline(settings, "pmd")!
    expect(named.baseline).toBe("pmd memory.lag=0")
    expect(named.rows.find((r) => r.setting === "pmd memory.lag=2")!.cells["acc"]!.diffs.map((d) => Number(d.toFixed(12)))).toEqual([-0.1, 0.1])
    const missing = pairAgainstBaseline(settings, "sdpo")!
    expect(missing).toMatchObject({ baseline: "grpo", requested: "sdpo" })
  })
})

// ---------------------------------------------------------------------------------------------------
// The sweep summary, the console table and the report

const METHODS = ["grpo", "sdpo", "pmd"]
const SEEDS = [1, 2, 3]

/** A sweep directory as `pmdsim sweep` leaves it (run folders with summary.json), and its plan. */
const sweepDir = async (): Promise<{ dir: string; plan: Array<PlannedRun>; runs: Array<RunData> }> => {
  const dir = tempDir()
  const runs = syntheticRuns(METHODS, SEEDS)
  await writeSweep(dir, runs)
  for (const r of runs) writeFileSync(join(dir, r.name, "summary.json"), "{}\n")
  const plan = runs.map((r) => ({ name: r.name, method: r.method as PlannedRun["method"], seed: r.seed, knobs: r.knobs, config: {} }))
  return { dir, plan, runs }
}

/** What a run's last internalization evaluation says (memory-free avg@k). */
const finalInternalization = (r: RunData): number =>
  r.rows.filter((x): x is EvalRow => x.kind === "eval" && x.protocol === "internalization").at(-1)!.memoryFree.avgAtK

describe("sweep-summary.json", () => {
  it("keeps its array of setting rows, and each row carries its paired differences against the baseline", async () => {
    const { dir, plan, runs } = await sweepDir()
    const rows = aggregate(plan, dir, { baseline: "sdpo" })
    writeSweepSummary(dir, rows)
    const file = JSON.parse(readFileSync(join(dir, "sweep-summary.json"), "utf8")) as Array<{ setting: string; n: number; paired: { baseline: string; cells: Record<string, { diffs: Array<number>; mean: number; seeds: Array<number>; resolved: boolean; seedsNeeded: number | null }> } }>
    expect(file.map((r) => r.setting)).toEqual(["grpo", "sdpo", "pmd"])
    expect(file.every((r) => r.paired.baseline === "sdpo")).toBe(true)
    expect(file.find((r) => r.setting === "sdpo")!.paired.cells).toEqual({})
    // pmd − sdpo at each seed, from the runs themselves
    const bySeed = (m: string) => SEEDS.map((s) => finalInternalization(runs.find((r) => r.method === m && r.seed === s)!))
    const want = SEEDS.map((_, i) => bySeed("pmd")[i]! - bySeed("sdpo")[i]!)
    const cell = file.find((r) => r.setting === "pmd")!.paired.cells["internalization avg@k"]!
    expect(cell.seeds).toEqual(SEEDS)
    expect(cell.diffs).toEqual(want)
    expect(cell.mean).toBeCloseTo(want.reduce((a, b) => a + b, 0) / 3, 12)
    // the independent columns are what they were
    expect(Object.keys(file[0]!)).toEqual(["setting", "n", "cells", "paired"])
    expect(readSweepBaseline(dir)).toBe("sdpo")
  })

  it("pairs against the plan's first setting by default; a baseline naming no setting is a SweepConfigError", async () => {
    const { dir, plan } = await sweepDir()
    expect(aggregate(plan, dir)[0]!.paired.baseline).toBe("grpo")
    expect(() => aggregate(plan, dir, { baseline: "frozen-policy" })).toThrow(SweepConfigError)
  })

  it("the sweep file's baseline must name a setting of the sweep", () => {
    const d = tempDir()
    const write = (spec: unknown) => {
      writeFileSync(join(d, "sweep.json"), JSON.stringify(spec))
      return join(d, "sweep.json")
    }
    const spec = { methods: ["grpo", "pmd"], seeds: [1], knobs: { "memory.lag": [0, 2] } }
    expect(readSweepSpec(write({ ...spec, baseline: "pmd memory.lag=2" })).baseline).toBe("pmd memory.lag=2")
    expect(readSweepSpec(write({ ...spec, baseline: "grpo" })).baseline).toBe("grpo")
    expect(() => readSweepSpec(write({ ...spec, baseline: "pmd memory.lag=1" }))).toThrow(/baseline "pmd memory.lag=1" names no setting/)
    expect(() => readSweepSpec(write({ ...spec, baseline: "sdpo" }))).toThrow(SweepConfigError)
  })

  it("the console prints the paired table: mean ± CI in points, * when resolved, and the seeds needed", () => {
    const s = (name: string, xs: ReadonlyArray<number>) => seedMetrics(name, name, {}, xs.map((x, i) => ({ seed: i + 1, metrics: { acc: x } })))
    // pmd − grpo: 0.15 0.17 0.13 (mean 0.15, sd 0.02, half 4.303 · 0.02 / √3 = 0.0497: resolved; 3 seeds, as above)
    // sdpo − grpo: 0 −0.125 0.125 (mean 0: half 4.303 · 0.125 / √3 = 0.3105, never resolvable)
    const table = pairAgainstBaseline([s("grpo", [0.25, 0.25, 0.25]), s("pmd", [0.4, 0.42, 0.38]), s("sdpo", [0.25, 0.125, 0.375])], undefined)!
    const lines = formatPairedTable(table, ["acc"]).split("\n")
    expect(lines[0]).toMatch(/^setting\s+acc\s*$/)
    expect(lines[2]).toMatch(/^pmd\s+\+15\.0 ± 5\.0 \* \(n 3, need 3\)\s*$/)
    expect(lines[3]).toMatch(/^sdpo\s+\+0\.0 ± 31\.1 \(n 3, need ∞\)\s*$/)
    expect(lines).toHaveLength(4)
  })
})

describe("the report's paired table", () => {
  const runs = syntheticRuns(METHODS, SEEDS)

  it("shows every setting against the baseline: mean ± CI in points, resolved, seeds needed", () => {
    const html = renderReport(runs, { title: "t", baseline: "grpo" })
    const section = html.slice(html.indexOf('<section id="paired">'), html.indexOf("</section>", html.indexOf('<section id="paired">')))
    expect(section).toContain("<h2>Paired differences against grpo</h2>")
    expect(html).toContain('<a href="#paired">Paired differences</a>')
    const bySeed = (m: string) => SEEDS.map((s) => finalInternalization(runs.find((r) => r.method === m && r.seed === s)!))
    const p = pairedDifference(seeds(bySeed("grpo")), seeds(bySeed("pmd")))!
    const sign = p.mean >= 0 ? "+" : "−"
    const cell = `${sign}${Math.abs(p.mean * 100).toFixed(1)} ± ${(p.half * 100).toFixed(1)}`
    expect(section).toContain(`<tr><td>pmd</td><td>internalization avg@k</td><td>3 <span class="seeds">(1, 2, 3)</span></td><td>${cell}</td><td>${p.resolved ? "<b>yes</b>" : "no"}</td><td>${p.seedsNeeded ?? "∞"}</td></tr>`)
    // grpo has no memory-augmented evaluation: nothing to pair for that metric
    expect(section).not.toContain("with memory")
    expect(section.match(/<tr><td>(sdpo|pmd)<\/td>/g)).toHaveLength(8)
  })

  it("defaults to the first setting, says when the baseline names none, adds a bootstrap column on request", () => {
    expect(renderReport(runs, { title: "t" })).toContain("<h2>Paired differences against grpo</h2>")
    const missing = renderReport(runs, { title: "t", baseline: "frozen-policy" })
    expect(missing).toContain("The baseline &quot;frozen-policy&quot; names no setting here; the first setting is used instead.")
    const boot = renderReport(runs, { title: "t", baseline: "pmd", bootstrap: { resamples: 500 } })
    expect(boot).toContain("<h2>Paired differences against pmd</h2>")
    expect(boot).toContain("<th>bootstrap 95%</th>")
    expect(boot).toContain("500 seeded resamples")
    expect(renderReport(runs, { title: "t", baseline: "pmd", bootstrap: { resamples: 500 } })).toBe(boot)
  })

  it("pairs settings that differ in a knob (the baseline named as the sweep names it)", () => {
    const knobbed = [0, 2].flatMap((lag) => SEEDS.map((seed) => syntheticRun({ method: "pmd", seed, steps: 12, evalEvery: 3, knobs: { "memory.lag": lag } })))
    const html = renderReport(knobbed, { title: "t", baseline: "pmd memory.lag=2" })
    expect(html).toContain("<h2>Paired differences against pmd · memory.lag=2</h2>")
    expect(html).toContain("<tr><td>pmd · memory.lag=0</td><td>internalization with memory</td>")
  })

  it("has no paired table with a single setting", () => {
    expect(renderReport(syntheticRuns(["pmd"], SEEDS), { title: "t" })).not.toContain('id="paired"')
  })

  it("writeReport pairs against the baseline sweep-summary.json names", async () => {
    const { dir, plan } = await sweepDir()
    writeSweepSummary(dir, aggregate(plan, dir, { baseline: "sdpo" }))
    const { html } = await writeReport(dir)
    expect(readFileSync(html, "utf8")).toContain("<h2>Paired differences against sdpo</h2>")
    expect(runMetrics([])).toEqual({})
  })
})

describe("runMetrics", () => {
  const acc = (avgAtK: number, passAtK: number, greedy: number) => ({ k: 4, avgAtK, passAtK, majAtK: 0, headroom: passAtK - avgAtK, greedy })
  const row = (step: number, protocol: "internalization" | "transfer", a: ReturnType<typeof acc>, withMemory: number | null = null): EvalRow =>
    ({ kind: "eval", step, protocol, problems: 8, memoryFree: a, memoryAugmented: withMemory === null ? null : acc(withMemory, withMemory, withMemory) })

  it("the last evaluation's avg@k, pass@k, greedy, headroom and with-memory figures, and the best avg@k after step 0, per protocol", () => {
    const m = runMetrics([
      row(0, "internalization", acc(0.2, 0.4, 0.35), 0.2), row(0, "transfer", acc(0.1, 0.3, 0.2)),
      row(10, "internalization", acc(0.4, 0.5, 0.3), 0.6), row(10, "transfer", acc(0.15, 0.25, 0.2)),
      row(20, "internalization", acc(0.3, 0.45, 0.33), 0.7), row(20, "transfer", acc(0.2, 0.35, 0.25))
    ])
    expect(m).toEqual({
      "internalization avg@k": 0.3, "internalization best avg@k": 0.4, "internalization pass@k": 0.45, "internalization greedy": 0.33,
      "internalization headroom": 0.45 - 0.3, "internalization with memory": 0.7,
      "transfer avg@k": 0.2, "transfer best avg@k": 0.2, "transfer pass@k": 0.35, "transfer greedy": 0.25, "transfer headroom": 0.35 - 0.2
    })
    for (const k of Object.keys(m)) expect(RUN_METRICS).toContain(k)
  })
})
