import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { MetricsLineError, RunConfigError, RunDirError } from "../../src/report/errors.ts"
import { loadRun, loadRuns, parseMetricsFile } from "../../src/report/load.ts"
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

/** The good lines with line `i` (0-based) replaced by `edit` applied to its text. */
const editLine = (i: number, edit: (line: string) => string): Array<string> => {
  const lines = goodLines()
  lines[i] = edit(lines[i]!)
  return lines
}
const firstEval = (): number => goodLines().findIndex((l) => l.includes('"kind":"eval"'))
const firstTrain = (): number => goodLines().findIndex((l) => l.includes('"kind":"train"'))

/** Write `text` as metrics.jsonl (exactly, no newline added) and expect parseMetricsFile and loadRun to fail with `reason` at `line`. */
const expectLineError = async (name: string, text: string, line: number, reason: string): Promise<void> => {
  const dir = join(root, name)
  const file = await writeRun(dir, [])
  await writeFile(file, text)
  let error: unknown
  try {
    parseMetricsFile(file)
  } catch (e) {
    error = e
  }
  expect(error, name).toBeInstanceOf(MetricsLineError)
  const e = error as MetricsLineError
  expect({ name, file: e.file, line: e.line, message: e.message }).toEqual({ name, file, line, message: `${file}:${line}: ${reason}` })
  // the report reads through the same checks
  const viaReport = await rejection(() => loadRun(dir), MetricsLineError)
  expect(viaReport.message).toBe(e.message)
}

describe("value ranges: a flipped byte that leaves valid JSON is caught", () => {
  it("fails naming the file, line, field and value of every out-of-range figure", async () => {
    const ev = firstEval()
    const tr = firstTrain()
    const cases: Array<readonly [string, number, (l: string) => string, string]> = [
      // the report of issue 12: one flipped byte made a greedy accuracy of 137.5 %
      ["greedy 1.375", ev, (l) => l.replace(/"greedy":[-0-9.e]+/, '"greedy":1.375'), "memoryFree.greedy must be in [0, 1], got 1.375"],
      ["negative avg", ev, (l) => l.replace(/"avgAtK":[-0-9.e]+/, '"avgAtK":-0.25'), "memoryFree.avgAtK must be in [0, 1], got -0.25"],
      ["pass above 1", ev, (l) => l.replace(/"passAtK":[-0-9.e]+/, '"passAtK":3.5'), "memoryFree.passAtK must be in [0, 1], got 3.5"],
      ["maj above 1", ev, (l) => l.replace(/"majAtK":[-0-9.e]+/, '"majAtK":1.0001'), "memoryFree.majAtK must be in [0, 1], got 1.0001"],
      ["headroom", ev, (l) => l.replace(/"headroom":[-0-9.e]+/, '"headroom":-1.5'), "memoryFree.headroom must be in [-1, 1], got -1.5"],
      ["k zero", ev, (l) => l.replace(/"k":[0-9]+/, '"k":0'), "memoryFree.k must be a positive integer, got 0"],
      ["k fraction", ev, (l) => l.replace(/"k":[0-9]+/, '"k":2.5'), "memoryFree.k must be a positive integer, got 2.5"],
      ["problems", ev, (l) => l.replace(/"problems":[0-9]+/, '"problems":-200'), "problems must be a non-negative integer, got -200"],
      ["augmented", ev, (l) => l.replace(/("memoryAugmented":\{.*?"greedy":)[-0-9.e]+/, (_, head: string) => `${head}1.5`), "memoryAugmented.greedy must be in [0, 1], got 1.5"],
      ["NaN string", ev, (l) => l.replace(/"avgAtK":[-0-9.e]+/, '"avgAtK":"NaN"'), 'memoryFree.avgAtK must be a finite number, got "NaN"'],
      ["Infinity string", tr, (l) => l.replace(/"loss":[-0-9.e]+/, '"loss":"Infinity"'), 'loss must be a finite number, got "Infinity"'],
      // JSON.parse reads 1e999 as Infinity
      ["overflow", tr, (l) => l.replace(/"gradNorm":[-0-9.e]+/, '"gradNorm":1e999'), "gradNorm must be a finite number, got Infinity"],
      ["reward", tr, (l) => l.replace(/"rewardMean":[-0-9.e]+/, '"rewardMean":1.25'), "rewardMean must be in [0, 1], got 1.25"],
      ["teacher", tr, (l) => l.replace(/"teacherFraction":[-0-9.e]+/, '"teacherFraction":-0.5'), "teacherFraction must be in [0, 1], got -0.5"],
      ["ever solved", tr, (l) => l.replace(/"everSolved":[-0-9.e]+/, '"everSolved":2'), "everSolved must be in [0, 1], got 2"],
      ["grad norm", tr, (l) => l.replace(/"gradNorm":[-0-9.e]+/, '"gradNorm":-0.5'), "gradNorm must be >= 0, got -0.5"],
      ["entropy", tr, (l) => l.replace(/"entropy":[-0-9.e]+/, '"entropy":-0.5'), "entropy must be >= 0, got -0.5"],
      ["version", tr, (l) => l.replace(/"memoryVersionRead":[-0-9.e]+/, '"memoryVersionRead":-2'), "memoryVersionRead must be an integer >= -1, got -2"],
      ["newest", tr, (l) => l.replace(/"memoryVersionNewest":[-0-9.e]+/, '"memoryVersionNewest":0.5'), "memoryVersionNewest must be an integer >= -1, got 0.5"],
      ["memory lag", tr, (l) => l.replace(/"memoryLag":[-0-9.e]+/, '"memoryLag":-1'), "memoryLag must be a non-negative integer, got -1"],
      ["clamped flag", tr, (l) => l.replace(/"memoryLagClamped":(true|false)/, '"memoryLagClamped":1'), "memoryLagClamped must be true or false, got 1"],
      ["policy version", tr, (l) => l.replace(/"rolloutPolicyVersion":[-0-9.e]+/, '"rolloutPolicyVersion":1.5'), "rolloutPolicyVersion must be a non-negative integer, got 1.5"],
      ["rollout lag", tr, (l) => l.replace(/"rolloutLag":[-0-9.e]+/, '"rolloutLag":-3'), "rolloutLag must be a non-negative integer, got -3"],
      ["sizes", tr, (l) => l.replace(/"insights":[-0-9.e]+/, '"insights":12.5'), "memorySizes.insights must be a non-negative integer, got 12.5"],
      ["throughput", tr, (l) => l.replace(/"tokensPerSec":[-0-9.e]+/, '"tokensPerSec":-4000'), "tokensPerSec must be >= 0, got -4000"]
    ]
    for (const [name, i, edit, reason] of cases) {
      const lines = editLine(i, edit)
      expect(lines[i], `${name}: the edit applies`).not.toBe(goodLines()[i])
      await expectLineError(name.replaceAll(" ", "-"), lines.join("\n") + "\n", i + 1, reason)
    }
  })

  it("accepts what real producers can write: a negative loss, a clock-skewed stage time, no memory (-1), zero accuracy, a row from before memoryLagClamped", async () => {
    const lines = editLine(firstTrain(), (l) =>
      l.replace(/"loss":[-0-9.e]+/, '"loss":-0.75').replace(/"sample":[-0-9.e]+/, '"sample":-3')
        .replace(/"memoryVersionRead":[-0-9.e]+/, '"memoryVersionRead":-1').replace(/"memoryVersionNewest":[-0-9.e]+/, '"memoryVersionNewest":-1')
        .replace(/"memoryLagClamped":(true|false),/, ""))
    expect(lines[firstTrain()]).not.toContain("memoryLagClamped")
    const ev = firstEval()
    lines[ev] = lines[ev]!.replace(/"(avgAtK|passAtK|majAtK|headroom|greedy)":[-0-9.e]+/g, '"$1":0')
    const file = await writeRun(join(root, "r"), lines)
    const rows = parseMetricsFile(file)
    expect(rows).toHaveLength(lines.length)
    expect(rows[firstTrain()]).toMatchObject({ loss: -0.75, memoryVersionRead: -1, stageMs: { sample: -3 }, memoryLagClamped: false })
  })

  it("every synthetic run the report tests use is in range", async () => {
    const runs = [
      ...syntheticRuns(["grpo", "sdpo", "pmd", "pmd-transient", "frozen-policy"], [1, 2, 3, 4, 5], 40, 4),
      ...[0, 1, 2, 4].map((lag) => syntheticRun({ method: "pmd", seed: 9, steps: 60, evalEvery: 5, knobs: { "memory.lag": lag }, k: 16 }))
    ]
    await writeSweep(root, runs)
    expect((await loadRuns(root)).length).toBe(runs.length)
  })
})

describe("steps increase", () => {
  const lineOf = (lines: ReadonlyArray<string>, pred: (row: { kind: string; step: number; protocol?: string }) => boolean): number =>
    lines.findIndex((l) => pred(JSON.parse(l)))

  it("rejects a train step going back, naming both lines", async () => {
    const lines = syntheticRun({ method: "pmd", seed: 1, steps: 6, evalEvery: 3 }).rows.map((r) => JSON.stringify(r))
    // step 5 written where step 4 was: 1 2 3 [eval 3] 5 5 6 would be a duplicate, so swap 4 and 5 instead
    const at4 = lineOf(lines, (r) => r.kind === "train" && r.step === 4)
    const at5 = lineOf(lines, (r) => r.kind === "train" && r.step === 5)
    ;[lines[at4], lines[at5]] = [lines[at5]!, lines[at4]!]
    await expectLineError("train-back", lines.join("\n") + "\n", at5 + 1, `train step 4 goes back: after train step 5 (line ${at4 + 1}); steps must increase`)
  })

  it("rejects an eval step going back within its protocol, while protocols interleave freely", async () => {
    const lines = syntheticRun({ method: "pmd", seed: 1, steps: 6, evalEvery: 2 }).rows.map((r) => JSON.stringify(r))
    const t2 = lineOf(lines, (r) => r.kind === "eval" && r.step === 2 && r.protocol === "transfer")
    const t4 = lineOf(lines, (r) => r.kind === "eval" && r.step === 4 && r.protocol === "transfer")
    ;[lines[t2], lines[t4]] = [lines[t4]!, lines[t2]!]
    await expectLineError("eval-back", lines.join("\n") + "\n", t4 + 1, `transfer eval step 2 goes back: after transfer eval step 4 (line ${t2 + 1}); steps must increase`)
  })

  it("still names a repeated step a duplicate", async () => {
    const lines = goodLines()
    const text = [...lines, lines[firstTrain()]!].join("\n") + "\n"
    await expectLineError("dup", text, lines.length + 1, `duplicate train step 1 (first at line ${firstTrain() + 1})`)
  })
})

describe("a truncated last line", () => {
  const cut = (): { text: string; last: number } => {
    const lines = goodLines()
    const last = lines[lines.length - 1]!
    return { text: [...lines.slice(0, -1), last.slice(0, Math.floor(last.length / 2))].join("\n"), last: lines.length }
  }

  it("is reported as truncated or damaged at its line, not as a raw JSON parser error", async () => {
    const { text, last } = cut()
    // (expectLineError compares the whole message, so the parser's "Unexpected end of JSON input" is not in it)
    await expectLineError("cut", text, last,
      "truncated or damaged: the last line is not JSON and has no newline at its end (was the run stopped while writing it?)")
  })

  it("is left out on request (a writer resuming the run), and a complete last line without a newline is a row", async () => {
    const { text, last } = cut()
    const file = await writeRun(join(root, "r"), [])
    await writeFile(file, text)
    expect(parseMetricsFile(file, { dropTruncatedLastLine: true })).toHaveLength(last - 1)
    await writeFile(file, goodLines().join("\n"))
    expect(parseMetricsFile(file)).toHaveLength(goodLines().length)
  })

  it("a damaged line that is not the last one stays 'not JSON' with the parser's reason", async () => {
    const lines = goodLines()
    lines[1] = lines[1]!.slice(0, 20)
    const dir = join(root, "mid")
    const file = await writeRun(dir, lines)
    const e = await rejection(() => loadRun(dir), MetricsLineError)
    expect(e.line).toBe(2)
    expect(e.message.startsWith(`${file}:2: not JSON: `)).toBe(true)
  })
})

describe("parseMetricsFile", () => {
  it("reads what loadRun reads, and names the directory of a missing file", async () => {
    const dir = join(root, "r")
    const file = await writeRun(dir, goodLines())
    expect(parseMetricsFile(file)).toEqual((await loadRun(dir)).rows)
    let error: unknown
    try {
      parseMetricsFile(join(root, "nowhere", "metrics.jsonl"))
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(RunDirError)
    expect((error as Error).message).toBe(`${join(root, "nowhere")}: no metrics.jsonl: the run has written no metrics`)
  })
})
