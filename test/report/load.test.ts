import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { MetricsLineError, RunConfigError, RunDirError } from "../../src/report/errors.ts"
import { loadRun, loadRuns } from "../../src/report/load.ts"
import { syntheticRun, syntheticRuns, writeSweep } from "./synthetic.ts"

let root = ""
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "pmdsim-load-"))
})
afterEach(async () => {
  await rm(root, { recursive: true, force: true })
})

const goodLines = (): Array<string> =>
  syntheticRun({ method: "pmd", seed: 1, steps: 3, evalEvery: 3 }).rows.map((r) => JSON.stringify(r))

const writeRun = async (dir: string, lines: ReadonlyArray<string>, config: unknown = { method: "pmd", seed: 1 }): Promise<string> => {
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, "config.json"), typeof config === "string" ? config : JSON.stringify(config))
  await writeFile(join(dir, "metrics.jsonl"), lines.join("\n") + "\n")
  return join(dir, "metrics.jsonl")
}

/** Run `f`, expect it to reject with an error of class `cls`, and return that error. */
const rejection = async <E extends Error>(f: () => Promise<unknown>, cls: new (...a: never[]) => E): Promise<E> => {
  try {
    await f()
  } catch (e) {
    expect(e).toBeInstanceOf(cls)
    return e as E
  }
  throw new Error("expected a rejection")
}

describe("loadRuns", () => {
  it("reads a sweep directory back into the runs that were written, sorted by name", async () => {
    const runs = syntheticRuns(["sdpo", "grpo", "pmd"], [2, 1], 6, 3)
    await writeSweep(root, runs)
    await mkdir(join(root, "not-a-run"))
    const loaded = await loadRuns(root)
    expect(loaded.map((r) => r.name)).toEqual(["grpo-s1", "grpo-s2", "pmd-s1", "pmd-s2", "sdpo-s1", "sdpo-s2"])
    for (const r of loaded) expect(r).toEqual(runs.find((x) => x.name === r.name))
  })

  it("reads a single run directory, and ignores blank lines", async () => {
    const dir = join(root, "pmd-lag2")
    await writeRun(dir, ["", ...goodLines(), "   ", ""], { method: "pmd", seed: 7, knobs: { "memory.lag": 2, ema: true }, other: { ignored: 1 } })
    const [run, ...rest] = await loadRuns(dir)
    expect(rest).toEqual([])
    expect(run).toMatchObject({ name: "pmd-lag2", method: "pmd", seed: 7, knobs: { "memory.lag": 2, ema: true } })
    expect(run!.rows).toHaveLength(goodLines().length)
  })

  it("names the file and line of a line that is not JSON", async () => {
    const lines = goodLines()
    lines.splice(2, 0, '{"kind": "train", "step": 9,')
    const file = await writeRun(join(root, "r"), lines)
    const e = await rejection(() => loadRuns(root), MetricsLineError)
    expect(e._tag).toBe("MetricsLineError")
    expect(e.file).toBe(file)
    expect(e.line).toBe(3)
    expect(e.message.startsWith(`${file}:3: not JSON`)).toBe(true)
  })

  it("names the bad field of a malformed row", async () => {
    const lines = goodLines()
    const i = lines.findIndex((l) => l.includes('"eval"'))
    const row = JSON.parse(lines[i]!)
    row.memoryFree.avgAtK = null
    lines[i] = JSON.stringify(row)
    const file = await writeRun(join(root, "r"), lines)
    const e = await rejection(() => loadRun(join(root, "r")), MetricsLineError)
    expect(e.message).toBe(`${file}:${i + 1}: memoryFree.avgAtK must be a finite number, got null`)
  })

  it("rejects unknown kinds, bad protocols, missing fields and duplicate steps", async () => {
    const cases: Array<readonly [string, string]> = [
      ['{"kind":"tick","step":1}', 'kind must be "train" or "eval", got "tick"'],
      ['{"kind":"eval","step":1,"protocol":"heldout"}', 'protocol must be "internalization" or "transfer", got "heldout"'],
      ['[1,2]', "row must be an object, got an array"],
      [JSON.stringify({ ...JSON.parse(goodLines()[0]!), stageMs: { sample: "fast" } }), 'stageMs.sample must be a finite number, got "fast"'],
      [JSON.stringify({ ...JSON.parse(goodLines()[0]!), entropy: undefined }), "entropy must be a finite number, got nothing"],
      [JSON.stringify({ ...JSON.parse(goodLines()[0]!), step: 1.5 }), "step must be a non-negative integer, got 1.5"],
      [goodLines()[0]!, "duplicate train step 1 (first at line 1)"]
    ]
    for (const [k, [bad, reason]] of cases.entries()) {
      const dir = join(root, `case${k}`)
      const file = await writeRun(dir, [goodLines()[0]!, bad])
      const e = await rejection(() => loadRun(dir), MetricsLineError)
      expect(e.message).toBe(`${file}:2: ${reason}`)
    }
  })

  it("names config.json when it lacks method or seed or has bad knobs", async () => {
    const cases: Array<readonly [unknown, string]> = [
      [{ seed: 1 }, "method must be a non-empty string"],
      [{ method: "pmd", seed: "one" }, "seed must be an integer"],
      [{ method: "pmd", seed: 1, knobs: { lag: [1] } }, "knobs.lag must be a string, a finite number or a boolean"],
      ["{not json", "not JSON"]
    ]
    for (const [k, [config, reason]] of cases.entries()) {
      const dir = join(root, `c${k}`)
      await writeRun(dir, goodLines(), config)
      const e = await rejection(() => loadRun(dir), RunConfigError)
      expect(e._tag).toBe("RunConfigError")
      expect(e.message.startsWith(`${join(dir, "config.json")}: ${reason}`)).toBe(true)
    }
  })

  it("fails with a RunDirError for a run missing metrics.jsonl and for a folder with no runs", async () => {
    await writeSweep(root, syntheticRuns(["pmd"], [1], 3, 3))
    await mkdir(join(root, "half-run"))
    await writeFile(join(root, "half-run", "config.json"), JSON.stringify({ method: "pmd", seed: 2 }))
    const e = await rejection(() => loadRuns(root), RunDirError)
    expect(e.message).toBe(`${join(root, "half-run")}: no metrics.jsonl: the run has written no metrics`)
    const empty = join(root, "empty")
    await mkdir(join(empty, "sub"), { recursive: true })
    const e2 = await rejection(() => loadRuns(empty), RunDirError)
    expect(e2.message).toContain("no runs")
    const e3 = await rejection(() => loadRuns(join(root, "does-not-exist")), RunDirError)
    expect(e3.message).toContain("cannot read directory")
  })
})
