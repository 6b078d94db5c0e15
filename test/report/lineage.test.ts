/**
 * The pure parts of memory lineage on the report side: lineage.jsonl parsing (every malformed line named by
 * file:line and field, a torn last line dropped only when asked) and the ranking of items by what they taught
 * (hand-computed before/after figures, and invariants over random lineages).
 */
import { test as fcTest, fc } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { type ContextEntry, type LineageRecord, lineageLine, parseLineage } from "../../src/report/lineageFile.ts"
import { indexLineage, rankItems } from "../../src/report/lineageRank.ts"
import { lineageSection } from "../../src/report/lineageSection.ts"

const ctx = (step: number, problem: string, k: number, solved: 0 | 1, refs: Array<number> = []): ContextEntry =>
  [`s${String(step - 1).padStart(6, "0")}/${problem}/r00${k}`, problem, solved, solved, step - 1, refs.length > 0 ? "memory" : "none", refs]

/**
 * Problem a: 0/2 solved at step 1 (item X shown to both rollouts), 2/2 at step 2 and 1/2 at step 3.
 * Problem b: 1/2 at step 1; X shown once at step 2 (1/2 solved), then 0/2 at step 3.
 * Problem c: Y shown at step 3, never sampled again (not measurable).
 */
const records: Array<LineageRecord> = [
  {
    step: 1, read: [1, "v1"], items: [["ins-x", 1]],
    contexts: [ctx(1, "a", 0, 0, [0]), ctx(1, "a", 1, 0, [0]), ctx(1, "b", 0, 1), ctx(1, "b", 1, 0)],
    created: [["ins-x", "insight", [["s000000/a/r000", 1, 0, 0]]]]
  },
  { step: 2, read: [2, "v2"], items: [["ins-x", 2]], contexts: [ctx(2, "a", 0, 1), ctx(2, "a", 1, 1), ctx(2, "b", 0, 1, [0]), ctx(2, "b", 1, 0)], created: [] },
  {
    step: 3, read: [3, "v3"], items: [["beh-y", 3]],
    contexts: [ctx(3, "a", 0, 1), ctx(3, "a", 1, 0), ctx(3, "b", 0, 0), ctx(3, "b", 1, 0), ctx(3, "c", 0, 0, [0])],
    created: [["beh-y", "behavior", [["s000000/a/r000", 1, 0, 0], ["old", null, null, null]]]]
  }
]

describe("ranking items by what they taught", () => {
  it("before = up to the first step shown, after = later steps, weighted by times shown", () => {
    const x = indexLineage(records).item("ins-x")!
    expect(x.kind).toBe("insight")
    expect(x.timesShown).toBe(3)
    expect(x.created).toEqual([{ step: 1, sources: [{ rolloutId: "s000000/a/r000", step: 1, policyVersion: 0, reward: 0 }] }])
    expect(x.shown.map((s) => [s.step, s.problemId, s.version])).toEqual([[1, "a", 1], [1, "a", 1], [2, "b", 2]])
    expect(x.problems).toEqual([
      { problemId: "a", shown: 2, firstShown: 1, before: { rollouts: 2, solved: 0 }, after: { rollouts: 4, solved: 3 }, delta: 0.75 },
      { problemId: "b", shown: 1, firstShown: 2, before: { rollouts: 4, solved: 2 }, after: { rollouts: 2, solved: 0 }, delta: -0.5 }
    ])
    expect(x.taught).toBeCloseTo(2 * 0.75 - 0.5, 12)
    expect(x.meanDelta).toBeCloseTo(1 / 3, 12)
    const y = indexLineage(records).item("beh-y")!
    expect(y.taught).toBeNull()
    expect(y.created[0]!.sources[1]).toEqual({ rolloutId: "old", step: null, policyVersion: null, reward: null })
    expect(indexLineage(records).item("nothing")).toBeUndefined()
    const r = rankItems(records)
    expect(r.ranked.map((i) => i.id)).toEqual(["ins-x"])
    expect({ unmeasurable: r.unmeasurable, shownItems: r.shownItems, steps: r.steps }).toEqual({ unmeasurable: 1, shownItems: 2, steps: 3 })
  })

  it("the report section shows the ranking and counts what cannot be measured", () => {
    const html = lineageSection([{ run: "pmd-s1", ranking: rankItems(records) }])
    expect(html).toContain("What memory taught")
    expect(html).toContain("<code>ins-x</code>")
    expect(html).toContain("+33.3")
    expect(html).toContain("pmd-s1: 1 of 2")
    expect(lineageSection([])).toBe("")
    // a sweep's tables fold away
    const two = lineageSection([{ run: "a", ranking: rankItems(records) }, { run: "b", ranking: rankItems(records) }])
    expect(two).toContain("<details><summary>top items of 2 runs</summary>")
    expect(two.match(/<code>ins-x<\/code>/g)).toHaveLength(2)
  })

  // random lineages: problems p0..p3, items i0..i5, each rollout's context holding a random subset
  const lineageArb = fc.array(
    fc.array(fc.record({ problem: fc.integer({ min: 0, max: 3 }), solved: fc.constantFrom<0 | 1>(0, 1), refs: fc.uniqueArray(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }) }), { minLength: 1, maxLength: 8 }),
    { minLength: 1, maxLength: 6 }
  ).map((steps): Array<LineageRecord> => steps.map((rs, t) => {
    const items = [...new Set(rs.flatMap((r) => r.refs))].sort().map((i) => [`ins-${i}`, t] as const)
    const slot = new Map(items.map(([id], j) => [id, j]))
    return {
      step: t + 1, read: [t, `v${t}`], items,
      contexts: rs.map((r, k) => [`s${t}/p${r.problem}/r${k}`, `p${r.problem}`, r.solved, r.solved, t, "memory", r.refs.map((i) => slot.get(`ins-${i}`)!)] as const),
      created: []
    }
  }))

  fcTest.prop([lineageArb], { numRuns: 300 })("ranked by taught; mean change within [−1, 1]; every shown item ranked or counted; lines round-trip", (recs) => {
    const r = rankItems(recs)
    expect(r.ranked.length + r.unmeasurable).toBe(r.shownItems)
    for (let i = 1; i < r.ranked.length; i++) expect(r.ranked[i - 1]!.taught!).toBeGreaterThanOrEqual(r.ranked[i]!.taught!)
    for (const it of r.ranked) {
      expect(Math.abs(it.meanDelta!)).toBeLessThanOrEqual(1 + 1e-12)
      expect(Math.sign(it.taught!)).toBe(Math.sign(it.meanDelta!))
      expect(it.problems.reduce((a, p) => a + p.shown, 0)).toBe(it.timesShown)
      for (const p of it.problems) expect(p.before.rollouts + p.after.rollouts).toBe(recs.flatMap((x) => x.contexts).filter((c) => c[1] === p.problemId).length)
    }
    expect(rankItems(recs, 2).ranked).toEqual(r.ranked.slice(0, 2))
    expect(parseLineage(recs.map((x) => `${lineageLine(x)}\n`).join(""), "f")).toEqual(recs)
  })
})

describe("parsing lineage.jsonl", () => {
  const text = records.map((r) => `${lineageLine(r)}\n`).join("")
  const problem = (t: string, opts = {}) => {
    try {
      parseLineage(t, "run/lineage.jsonl", opts)
    } catch (e) {
      return (e as Error).message
    }
    return "parsed"
  }

  it("round-trips and names the line and field of a malformed record", () => {
    expect(parseLineage(text, "f")).toEqual(records)
    const lines = text.trimEnd().split("\n")
    const withLine2 = (l: string) => [lines[0], l, lines[2]].join("\n")
    expect(problem(withLine2(lines[1]!.replace('"read":[2,"v2"]', '"read":[2]')))).toBe("run/lineage.jsonl:2: read must be an array of 2, got [2]")
    expect(problem(withLine2(lines[1]!.replace('"b",1,1,1,"memory",[0]', '"b",1,1,1,"memory",[5]')))).toBe("run/lineage.jsonl:2: contexts[2][6][0] must be an index into items (< 1), got 5")
    expect(problem(withLine2(lines[1]!.replace('"b",1,1,1', '"b",1,2,1')))).toBe("run/lineage.jsonl:2: contexts[2][3] must be 0 or 1, got 2")
    expect(problem(withLine2(lines[1]!.replace('"step":2', '"step":1')))).toBe("run/lineage.jsonl:2: step 1 after step 1: steps must increase (one record a step)")
    expect(problem(`${lines[0]}\n{oops\n${lines[2]}\n`)).toMatch(/^run\/lineage\.jsonl:2: not JSON/)
    expect(problem(text.replace('"behavior"', '"bank"'))).toBe("run/lineage.jsonl:3: created[0][1] must be one of experience, insight, behavior, memp, got \"bank\"")
  })

  it("a torn last line fails a reader, and is dropped for a resuming writer", () => {
    const torn = text + lineageLine({ ...records[2]!, step: 4 }).slice(0, 40)
    expect(problem(torn)).toMatch(/^run\/lineage\.jsonl:4: truncated or damaged/)
    expect(parseLineage(torn, "f", { dropTruncatedLastLine: true })).toEqual(records)
  })
})
