import { describe, expect, it } from "vitest"
import { csvField, evalCsv, toCsv, trainCsv } from "../../src/report/csv.ts"
import { syntheticRun } from "./synthetic.ts"

/** A small RFC 4180 reader, to check that what we write reads back field for field. */
const parseCsv = (text: string): Array<Array<string>> => {
  const rows: Array<Array<string>> = []
  let row: Array<string> = []
  let field = ""
  let i = 0
  let quoted = false
  while (i < text.length) {
    const c = text[i]!
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue }
      if (c === '"') { quoted = false; i++; continue }
      field += c; i++; continue
    }
    if (c === '"') { quoted = true; i++; continue }
    if (c === ",") { row.push(field); field = ""; i++; continue }
    if (c === "\r" && text[i + 1] === "\n") { row.push(field); rows.push(row); row = []; field = ""; i += 2; continue }
    field += c; i++
  }
  return rows
}

describe("csvField (RFC 4180)", () => {
  it("quotes only fields with a comma, a quote, CR or LF, doubling quotes", () => {
    expect(csvField("plain")).toBe("plain")
    expect(csvField(0.125)).toBe("0.125")
    expect(csvField(true)).toBe("true")
    expect(csvField(null)).toBe("")
    expect(csvField(undefined)).toBe("")
    expect(csvField("a,b")).toBe('"a,b"')
    expect(csvField('say "hi"')).toBe('"say ""hi"""')
    expect(csvField("two\nlines")).toBe('"two\nlines"')
    expect(csvField("cr\r")).toBe('"cr\r"')
    expect(csvField("")).toBe("")
  })

  it("ends every line, the last included, with CRLF", () => {
    expect(toCsv(["a", "b"], [[1, "x,y"], [null, 2]])).toBe('a,b\r\n1,"x,y"\r\n,2\r\n')
  })
})

describe("trainCsv / evalCsv", () => {
  const awkward = { "teacher kind": 'ema, "slow"', "memory.lag": 2 }
  const runs = [
    syntheticRun({ method: "sdpo", seed: 2, steps: 4, evalEvery: 2 }),
    syntheticRun({ method: "pmd", seed: 1, steps: 4, evalEvery: 2, knobs: awkward }),
    syntheticRun({ method: "grpo", seed: 1, steps: 4, evalEvery: 2 })
  ]

  it("flattens every train field, sorts by run name then step, and reads back", () => {
    const rows = parseCsv(trainCsv(runs))
    const header = rows[0]!
    expect(header.slice(0, 5)).toEqual(["run", "method", "seed", "knob.memory.lag", "knob.teacher kind"])
    for (const col of ["step", "rewardMean", "entropy", "teacherFraction", "everSolved", "memoryLag", "rolloutLag",
      "memorySizes.experience", "memorySizes.insights", "memorySizes.behaviors", "stageMs.sample", "stageMs.update", "tokensPerSec"]) {
      expect(header).toContain(col)
    }
    const body = rows.slice(1)
    expect(body).toHaveLength(12)
    const names = runs.map((r) => r.name).sort()
    expect(body.map((r) => `${r[0]}:${r[header.indexOf("step")]}`)).toEqual(names.flatMap((n) => [1, 2, 3, 4].map((s) => `${n}:${s}`)))
    const pmd = body.find((r) => r[1] === "pmd")!
    expect(pmd[header.indexOf("knob.teacher kind")]).toBe('ema, "slow"')
    expect(body.find((r) => r[1] === "grpo")![header.indexOf("knob.memory.lag")]).toBe("")
    const first = runs[1]!.rows.find((r) => r.kind === "train")!
    if (first.kind !== "train") throw new Error("unreachable")
    expect(Number(pmd[header.indexOf("memorySizes.insights")])).toBe(first.memorySizes.insights)
    expect(Number(pmd[header.indexOf("rewardMean")])).toBe(first.rewardMean)
  })

  it("writes eval rows per (step, protocol) with memoryAugmented empty when not measured", () => {
    const rows = parseCsv(evalCsv(runs))
    const header = rows[0]!
    const col = (name: string) => header.indexOf(name)
    expect(col("memoryFree.avgAtK")).toBeGreaterThan(0)
    expect(col("memoryAugmented.headroom")).toBeGreaterThan(0)
    const body = rows.slice(1)
    expect(body).toHaveLength(3 * 2 * 2) // runs x eval steps x protocols
    expect(body.slice(0, 4).map((r) => [r[0], r[col("step")], r[col("protocol")]])).toEqual([
      ["grpo-s1", "2", "internalization"], ["grpo-s1", "2", "transfer"], ["grpo-s1", "4", "internalization"], ["grpo-s1", "4", "transfer"]
    ])
    expect(body[0]![col("memoryAugmented.avgAtK")]).toBe("")
    const pmd = body.find((r) => r[1] === "pmd")!
    expect(Number(pmd[col("memoryAugmented.avgAtK")])).toBeGreaterThan(0)
  })

  it("does not depend on the order runs are given in", () => {
    expect(trainCsv([...runs].reverse())).toBe(trainCsv(runs))
    expect(evalCsv([...runs].reverse())).toBe(evalCsv(runs))
  })
})
