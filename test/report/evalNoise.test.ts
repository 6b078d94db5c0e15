/**
 * The report's "Evaluation noise" table: read from each run's eval-noise.json (checked like metrics rows),
 * the SD across evaluation seeds beside the seed-to-seed SD of the final values; a damaged file is a
 * typed error naming it and the field; a file measured under another config than the run's is left out.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import type { EvalRow, RunData } from "../../src/protocol/metrics.ts"
import { renderReport } from "../../src/report/html.ts"
import { writeReport } from "../../src/report/index.ts"
import { EvalNoiseFileError } from "../../src/report/errors.ts"
import { EVAL_NOISE_FORMAT, type EvalNoise, loadEvalNoise, noiseSummary, parseEvalNoise } from "../../src/report/load.ts"
import { meanCI } from "../../src/report/stats.ts"
import { syntheticRuns, writeSweep } from "./synthetic.ts"

const runs = syntheticRuns(["grpo", "pmd"], [1, 2, 3], 9, 3)

/** A run's final eval rows with memory-free avg@k moved by `shift` (one evaluation seed's draw). */
const shifted = (run: RunData, shift: number): Array<EvalRow> =>
  run.rows.filter((r): r is EvalRow => r.kind === "eval" && r.step === 9)
    .map((r) => ({ ...r, memoryFree: { ...r.memoryFree, avgAtK: r.memoryFree.avgAtK + shift } }))

const noiseFile = (run: RunData, shifts: ReadonlyArray<number>, resultHash = "h"): EvalNoise => {
  const entries = shifts.map((s, i) => ({ evalSeed: 1000 + i, rows: shifted(run, s) }))
  return { format: EVAL_NOISE_FORMAT, step: 9, method: run.method, seed: run.seed, resultHash, entries, summary: noiseSummary(entries), notes: [] }
}

const sectionOf = (html: string): string => {
  const m = /<section id="eval-noise">[\s\S]*?<\/section>/.exec(html)
  if (m === null) throw new Error("no eval-noise section")
  return m[0]
}
/** The cells of the table row of a setting, protocol and figure. */
const cells = (section: string, setting: string, protocol: string, figure: string): Array<string> => {
  const row = [...section.matchAll(/<tr>(.*?)<\/tr>/g)].map((m) => [...m[1]!.matchAll(/<td>(.*?)<\/td>/g)].map((c) => c[1]!))
    .find((c) => c[0] === setting && c[1] === protocol && c[2] === figure)
  if (row === undefined) throw new Error(`no row ${setting} ${protocol} ${figure}`)
  return row
}

describe("evaluation noise in the report", () => {
  it("shows, per setting, the SD across evaluation seeds beside the seed-to-seed SD of the final values", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pmdsim-noise-report-"))
    await writeSweep(dir, runs)
    const pmd1 = runs.find((r) => r.name === "pmd-s1")!
    const pmd2 = runs.find((r) => r.name === "pmd-s2")!
    writeFileSync(join(dir, pmd1.name, "eval-noise.json"), JSON.stringify(noiseFile(pmd1, [0, 0.02, 0.04])))
    writeFileSync(join(dir, pmd2.name, "eval-noise.json"), JSON.stringify(noiseFile(pmd2, [0, 0.01, 0.02, 0.03])))
    const out = await writeReport(dir)
    const section = sectionOf(readFileSync(out.html, "utf8"))
    expect(section).toContain("<h2>Evaluation noise</h2>")
    const row = cells(section, "pmd", "internalization", "memory-free avg@k")
    // SD across evaluation seeds: 2.0 and 1.29 points, pooled as √ of the mean variance
    const pooled = Math.sqrt((meanCI([0, 2, 4]).sd ** 2 + meanCI([0, 1, 2, 3]).sd ** 2) / 2)
    expect(row[3]).toMatch(/^2 /)
    expect(row[4]).toBe("3, 4")
    expect(row[5]).toBe(pooled.toFixed(1))
    const finals = runs.filter((r) => r.method === "pmd").map((r) => shifted(r, 0).find((e) => e.protocol === "internalization")!.memoryFree.avgAtK * 100)
    const seedSd = meanCI(finals).sd
    expect(row[6]).toBe(`${seedSd.toFixed(1)} <span class="seeds">(3 seeds)</span>`)
    expect(row[7]).toBe(`${Math.round((100 * pooled * pooled) / (seedSd * seedSd))}%`)
    // grpo has no eval-noise.json: no rows for it
    expect(section).not.toMatch(/<td>grpo<\/td>/)
    // without any eval-noise.json there is no section, and the page is what it was
    expect(renderReport(runs, { title: "t", evalNoise: [] })).toBe(renderReport(runs, { title: "t" }))
    expect(renderReport(runs, { title: "t" })).not.toContain("eval-noise")
  })

  it("leaves out a file measured under another config than the run's marker names, and says so", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pmdsim-noise-stale-"))
    await writeSweep(dir, runs)
    const pmd1 = runs.find((r) => r.name === "pmd-s1")!
    writeFileSync(join(dir, pmd1.name, "pmdsim-run.json"), JSON.stringify({ resultHash: "new" }))
    writeFileSync(join(dir, pmd1.name, "eval-noise.json"), JSON.stringify(noiseFile(pmd1, [0, 0.02], "old")))
    const noise = await loadEvalNoise(dir, runs)
    expect(noise.map((n) => [n.run, n.stale])).toEqual([["pmd-s1", true]])
    const section = sectionOf(renderReport(runs, { title: "t", evalNoise: noise }))
    expect(section).not.toContain("<table")
    expect(section).toMatch(/Left out.*pmd-s1/s)
  })

  it("rejects a damaged eval-noise.json with a typed error naming the file and the field", async () => {
    const pmd1 = runs.find((r) => r.name === "pmd-s1")!
    const good = noiseFile(pmd1, [0, 0.02, 0.04])
    const bad = (edit: (o: Record<string, any>) => void): string => {
      const o = structuredClone(good) as unknown as Record<string, any>
      edit(o)
      return JSON.stringify(o)
    }
    const attempt = (text: string) => () => parseEvalNoise(text, "/x/eval-noise.json")
    expect(attempt(JSON.stringify(good))).not.toThrow()
    const cases: Array<[string, RegExp]> = [
      ["{", /eval-noise\.json: not JSON/],
      [bad((o) => (o["entries"][1]["rows"][0]["memoryFree"]["avgAtK"] = 1.5)), /entries\[1\]\.rows\[0\]: memoryFree\.avgAtK must be in \[0, 1\], got 1\.5/],
      [bad((o) => (o["summary"][0]["mean"] = -0.1)), /summary\[0\]\.mean must be in \[0, 1\], got -0\.1/],
      [bad((o) => (o["summary"][0]["sd"] = 0.9)), /summary\[0\]\.sd 0\.9 exceeds max − min/],
      [bad((o) => (o["summary"][0]["n"] = 2)), /summary\[0\]\.n is 2, but the file has 3 entries/],
      [bad((o) => (o["entries"][2]["evalSeed"] = 1000)), /entries\[2\]\.evalSeed 1000 appears twice/],
      [bad((o) => (o["entries"][0]["rows"][0]["step"] = 3)), /entries\[0\]\.rows\[0\]: step 3 is not the file's step 9/],
      [bad((o) => (o["format"] = "other")), /format must be "pmdsim-eval-noise\/1"/]
    ]
    for (const [text, message] of cases) {
      expect(attempt(text)).toThrow(EvalNoiseFileError)
      expect(attempt(text)).toThrow(message)
    }
    // through the report: the file is named, nothing is written
    const dir = mkdtempSync(join(tmpdir(), "pmdsim-noise-bad-"))
    await writeSweep(dir, runs)
    writeFileSync(join(dir, pmd1.name, "eval-noise.json"), cases[1]![0])
    await expect(writeReport(dir)).rejects.toThrow(`${join(dir, pmd1.name, "eval-noise.json")}: entries[1]`)
  })
})
