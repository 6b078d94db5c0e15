/** The report's "Claims" section from a study directory's study-summary.json (load.ts, html.ts). */
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { parseStudySummary, readStudySummary, renderReport, STUDY_SUMMARY_FORMAT, type StudySummary, StudySummaryFileError } from "../../src/report/index.ts"
import { syntheticRuns } from "./synthetic.ts"

const SUMMARY: StudySummary = {
  format: STUDY_SUMMARY_FORMAT,
  question: "Does <PMD> beat GRPO?",
  claims: [
    { id: "pmd>grpo", statement: "PMD beats GRPO", metric: "internalization avg@k", better: "pmd", worse: "grpo", verdict: "holds",
      n: 3, seeds: [1, 2, 3], diffs: [0.1, 0.12, 0.14], mean: 0.12, half: 0.0497, lo: 0.0703, hi: 0.1697, seedsNeeded: 3 },
    { id: "pmd>sdpo", statement: "PMD beats SDPO", metric: "transfer avg@k", better: "pmd", worse: "sdpo", verdict: "unresolved (n < 2)",
      n: 1, seeds: [1], diffs: [0.05], mean: 0.05, half: null, lo: null, hi: null, seedsNeeded: null }
  ]
}

const reason = (text: string): string => {
  try {
    parseStudySummary(text, "study-summary.json")
  } catch (e) {
    expect(e).toBeInstanceOf(StudySummaryFileError)
    return (e as Error).message
  }
  throw new Error("parsed a bad study summary")
}

describe("study-summary.json", () => {
  it("round-trips, and a directory without one has none", () => {
    expect(parseStudySummary(JSON.stringify(SUMMARY), "f")).toEqual(SUMMARY)
    expect(readStudySummary(mkdtempSync(join(tmpdir(), "pmdsim-nostudy-")))).toBeUndefined()
  })

  it("a bad file is a typed error naming the file and the field", () => {
    expect(reason("{")).toMatch(/^study-summary\.json: not JSON/)
    expect(reason(JSON.stringify({ ...SUMMARY, format: "x" }))).toMatch(/format must be "pmdsim-study\/1"/)
    expect(reason(JSON.stringify({ ...SUMMARY, question: 3 }))).toMatch(/question must be a string, got 3/)
    expect(reason(JSON.stringify({ ...SUMMARY, claims: [{ ...SUMMARY.claims[0], verdict: "yes" }] }))).toMatch(/claims\[0\]\.verdict must be one of/)
    expect(reason(JSON.stringify({ ...SUMMARY, claims: [SUMMARY.claims[0], { ...SUMMARY.claims[1], mean: "0.1" }] }))).toMatch(/claims\[1\]\.mean must be a finite number or null/)
    const dir = mkdtempSync(join(tmpdir(), "pmdsim-badstudy-"))
    writeFileSync(join(dir, "study-summary.json"), "[]")
    expect(() => readStudySummary(dir)).toThrow(/study-summary\.json: must be a JSON object/)
  })
})

describe("Claims section", () => {
  const runs = syntheticRuns(["grpo", "pmd"], [1, 2])

  it("shows the question (escaped) and one row per claim with its difference and verdict, linked from the nav", () => {
    const html = renderReport(runs, { title: "t", study: SUMMARY })
    const section = html.slice(html.indexOf(`<section id="claims">`), html.indexOf(`<section id="results">`))
    expect(section).toContain("Does &lt;PMD&gt; beat GRPO?")
    expect(section.match(/<tr><td>/g)).toHaveLength(2)
    expect(section).toMatch(/<td>pmd&gt;grpo<\/td><td>PMD beats GRPO<\/td><td>internalization avg@k<\/td><td>pmd − grpo<\/td><td>\+12\.0 ± 5\.0<\/td>.*<b class="verdict holds">holds<\/b>/)
    expect(section).toMatch(/<td>\+5\.0<\/td><td>1 <span class="seeds">\(1\)<\/span><\/td><td>∞<\/td><td><b class="verdict unresolved">unresolved \(n &lt; 2\)<\/b>/)
    expect(html).toContain(`<a href="#claims">Claims</a>`)
  })

  it("is absent without a study", () => {
    const html = renderReport(runs, { title: "t" })
    expect(html).not.toContain(`id="claims"`)
    expect(html).not.toContain(`href="#claims"`)
  })
})
