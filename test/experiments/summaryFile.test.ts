import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import type { MetricsRow } from "../../src/protocol/metrics.ts"
import type { Summary } from "../../src/experiments/run.ts"
import { readSummary, SummaryFileError } from "../../src/experiments/summaryFile.ts"
import { parseMetricsFile } from "../../src/report/load.ts"
import { freshDir, tinyConfig, train } from "./helpers.ts"

/** summary.json parsed, to be damaged field by field */
type Json = Record<string, any>

/** Expect readSummary(file) to fail with exactly `problem`. */
const expectProblem = (file: string, problem: string): void => {
  let error: unknown
  try {
    readSummary(file)
  } catch (e) {
    error = e
  }
  expect(error, problem).toBeInstanceOf(SummaryFileError)
  const e = error as SummaryFileError
  expect({ tag: e._tag, file: e.file, problem: e.problem, message: e.message }).toEqual({ tag: "SummaryFileError", file, problem, message: `${file}: ${problem}` })
}

// one real tiny run, whose summary.json the damage cases start from
let pmd: { dir: string; summary: Summary; text: string; rows: ReadonlyArray<MetricsRow> }
beforeAll(async () => {
  const r = await train(tinyConfig(["memory.update=vanilla"]))
  const { halted: _, ...summary } = r.summary
  pmd = { dir: r.dir, summary, text: readFileSync(join(r.dir, "summary.json"), "utf8"), rows: r.rows }
})

/** The real summary.json with `edit` applied to its text, in a fresh run directory. */
const damagedText = (edit: (text: string) => string): string => {
  const file = join(freshDir("summary"), "summary.json")
  writeFileSync(file, edit(pmd.text))
  return file
}

/** The real summary.json with `edit` applied to its parsed value, written back as run.ts writes it. */
const damagedValue = (edit: (value: Json) => void): string =>
  damagedText((text) => {
    const value = JSON.parse(text) as Json
    edit(value)
    return `${JSON.stringify(value, null, 2)}\n`
  })

describe("readSummary on real runs", () => {
  it("reads back exactly what a real tiny PMD run (with a Memp store) wrote, and its metrics pass the same checks", async () => {
    expect(readSummary(join(pmd.dir, "summary.json"))).toEqual(pmd.summary)
    expect(pmd.summary.memoryId).toContain("+memp:")
    const rows = parseMetricsFile(join(pmd.dir, "metrics.jsonl"))
    expect(rows).toEqual(pmd.rows)
    expect(rows.filter((r) => r.kind === "train").map((r) => r.step)).toEqual([1, 2, 3, 4])
  })

  it("reads back a GRPO run: no memory (versions -1, memory id 'empty'), every metrics row as emitted", async () => {
    const r = await train(tinyConfig(["method=grpo"]))
    const { halted: _, ...summary } = r.summary
    expect(readSummary(join(r.dir, "summary.json"))).toEqual(summary)
    expect(summary.memoryId).toBe("empty")
    expect(parseMetricsFile(join(r.dir, "metrics.jsonl"))).toEqual(r.rows)
    expect(r.trainRows.every((t) => t.memoryVersionRead === -1)).toBe(true)
  })
})

describe("readSummary on damaged files names the file and the field", () => {
  it("one flipped byte in an accuracy: 0 -> 9", () => {
    // the first "greedy" of the file is final.eval[0].memoryFree's (train rows have none)
    const file = damagedText((t) => t.replace(/"greedy": 0(?=[,\n])/, '"greedy": 9'))
    const text = readFileSync(file, "utf8")
    expect(text).not.toBe(pmd.text)
    expect(text.length).toBe(pmd.text.length)
    expectProblem(file, "final.eval[0].memoryFree.greedy: must be in [0, 1], got 9")
  })

  it("one flipped byte in a hash", () => {
    const file = damagedText((t) => t.replace(/("finalStateHash": ")./, "$1g"))
    const hash = (JSON.parse(readFileSync(file, "utf8")) as Json)["finalStateHash"] as string
    expectProblem(file, `finalStateHash: must be 64 lowercase hex digits (a sha-256), got ${JSON.stringify(hash)}`)
  })

  it("out-of-range figures, NaN-like strings, wrong types, missing keys", () => {
    const cases: Array<readonly [(v: Json) => void, string]> = [
      [(v) => { v.final.eval[1].memoryFree.greedy = 1.375 }, "final.eval[1].memoryFree.greedy: must be in [0, 1], got 1.375"],
      [(v) => { v.final.eval[0].memoryAugmented.avgAtK = -0.5 }, "final.eval[0].memoryAugmented.avgAtK: must be in [0, 1], got -0.5"],
      [(v) => { v.final.eval[0].memoryFree.passAtK = "NaN" }, 'final.eval[0].memoryFree.passAtK: Expected number, got "NaN"'],
      [(v) => { v.final.eval[0].memoryFree.k = 0 }, "final.eval[0].memoryFree.k: must be a positive integer, got 0"],
      [(v) => { v.final.train.rewardMean = 1.5 }, "final.train.rewardMean: must be in [0, 1], got 1.5"],
      [(v) => { v.final.train.memorySizes.experience = -1 }, "final.train.memorySizes.experience: must be a non-negative integer, got -1"],
      [(v) => { delete v.final.train.entropy }, "final.train.entropy: Missing key"],
      [(v) => { v.final.eval[1].step = 0 }, `final.eval[1].step: must equal final.eval[0].step (${pmd.summary.steps}), got 0`],
      [(v) => { v.final.train.step = 1 }, `final.eval[0].step: must not be after final.train.step (1), got ${pmd.summary.steps}`],
      [(v) => { v.final.eval[1].protocol = v.final.eval[0].protocol }, "final.eval[1].protocol: internalization appears twice"],
      [(v) => { v.configHash = (v.configHash as string).toUpperCase() }, `configHash: must be 64 lowercase hex digits (a sha-256), got "${pmd.summary.configHash.toUpperCase()}"`],
      [(v) => { v.steps = 2.5 }, "steps: Expected an integer, got 2.5"],
      [(v) => { v.method = "pdm" }, 'method: Expected "grpo" | "sdpo" | "pmd" | "pmd-transient" | "frozen-policy" | "frozen-memory", got "pdm"'],
      [(v) => { v.final = null }, "final: Expected object, got null"],
      [(v) => { v.memoryLagClampedSteps = -1 }, "memoryLagClampedSteps: must be a non-negative integer, got -1"],
      [(v) => { v.final.train.memoryLagClamped = "no" }, 'final.train.memoryLagClamped: Expected boolean, got "no"']
    ]
    for (const [edit, problem] of cases) expectProblem(damagedValue(edit), problem)
  })

  it("a summary (and its final row) from before memoryLagClamped existed reads as never clamped", () => {
    const file = damagedValue((v) => {
      delete v.memoryLagClampedSteps
      delete v.final.train.memoryLagClamped
    })
    const s = readSummary(file)
    expect(s.memoryLagClampedSteps).toBe(0)
    expect(s.final.train?.memoryLagClamped).toBe(false)
  })

  it("JSON's 1e999 is Infinity, not a number a report can show", () => {
    const file = damagedText((t) => t.replace(/"loss": [-0-9.e]+/, '"loss": 1e999'))
    expectProblem(file, "final.train.loss: must be a finite number, got Infinity")
  })

  it("a truncated file, and a missing one", () => {
    const file = damagedText((t) => t.slice(0, t.length >> 1))
    let problem = ""
    try {
      readSummary(file)
    } catch (e) {
      expect(e).toBeInstanceOf(SummaryFileError)
      problem = (e as SummaryFileError).problem
    }
    expect(problem.startsWith("truncated or damaged: not JSON (")).toBe(true)
    expectProblem(join(freshDir("summary"), "summary.json"), "no such file (the run has not finished)")
  })
})
