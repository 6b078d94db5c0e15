import { test as fcTest, fc } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { Rng } from "../../src/core/Rng.ts"
import { Control } from "../../src/domains/control.ts"
import { byScoreThenId, cosine } from "../../src/memory/embed/vec.ts"
import { aveFact, emptyMemp, factsOf, mempRetrieve, mempUpdate } from "../../src/memory/memp/memp.ts"
import { buildIndex } from "../../src/memory/retrieval/vectorIndex.ts"
import { testEmbedder as embed } from "../../src/testing/arbitraries.ts"

const vecArb = (dim: number) => fc.array(fc.integer({ min: -3, max: 3 }), { minLength: dim, maxLength: dim }).map((xs) => Float32Array.from(xs))
const itemsArb = fc.uniqueArray(fc.record({ id: fc.string({ minLength: 1, maxLength: 4 }), vec: vecArb(4) }), { selector: (x) => x.id, maxLength: 30 })

describe("retrieval", () => {
  fcTest.prop([itemsArb, vecArb(4), fc.integer({ min: 0, max: 8 })], { numRuns: 1000 })(
    "exact search equals brute-force cosine top-K (ties by id) and is deterministic",
    (items, q, k) => {
      const idx = buildIndex(items)
      expect(idx.exact).toBe(true)
      const brute = items.map((x) => ({ id: x.id, score: cosine(x.vec, q) })).sort(byScoreThenId).slice(0, k)
      const got = idx.search(q, k)
      expect(got.map((s) => s.id)).toEqual(brute.map((s) => s.id))
      got.forEach((s, i) => expect(s.score).toBeCloseTo(brute[i]!.score, 6))
      expect(buildIndex([...items].reverse()).search(q, k)).toEqual(got)
    }
  )

  it("HNSW above the threshold: deterministic across builds and insertion orders, near-exact recall", () => {
    const rng = Rng.root("hnsw-test")
    const items = Array.from({ length: 600 }, (_, i) => ({ id: `b${String(i).padStart(4, "0")}`, vec: Float32Array.from({ length: 16 }, () => rng.normal()) }))
    const cfg = { exactBelow: 100, connectivity: 16, expansionAdd: 128, expansionSearch: 128 }
    const a = buildIndex(items, cfg)
    const b = buildIndex([...items].reverse(), cfg)
    const exact = buildIndex(items)
    expect(a.exact).toBe(false)
    let hit = 0
    for (let i = 0; i < 50; i++) {
      const q = Float32Array.from({ length: 16 }, () => rng.normal())
      const ra = a.search(q, 5)
      expect(b.search(q, 5)).toEqual(ra)
      const truth = new Set(exact.search(q, 5).map((s) => s.id))
      hit += ra.filter((s) => truth.has(s.id)).length
    }
    expect(hit / 250).toBeGreaterThan(0.9)
  })

  it("rejects a negative k and mixed dimensions", () => {
    expect(() => buildIndex([{ id: "a", vec: new Float32Array(2) }, { id: "b", vec: new Float32Array(3) }])).toThrow(/dim/)
    expect(() => buildIndex([]).search(new Float32Array(2), -1)).toThrow(/top-k/)
  })
})

describe("Memp baseline", () => {
  const prompt = (cue: number, ex: Array<number>) => [Control.PROB, Control.CUE, cue, Control.SEP, ...ex, Control.ANS]
  const prov = (id: string, step = 1) => ({ rolloutId: id, policyVersion: 0, step, reward: 1 })

  it("AveFact compares facts under shared keys only", () => {
    const q = factsOf(prompt(60, [20, 21, 22]), embed)
    expect(q.map((f) => f.key)).toEqual([`${Control.CUE}#0`, `${Control.SEP}#0`])
    expect(aveFact(q, q)).toBeCloseTo(1, 5)
    expect(aveFact(q, factsOf([Control.PROB, 20, 21], embed))).toBe(0)
  })

  it("update policies, hit/success bookkeeping and the deprecation rule", () => {
    const o = (id: string, success: boolean, usedId?: string) => ({
      problemId: "p", query: prompt(60, [20, 21]), response: success ? [40, 41, 2] : [40, 44, 2], success, prov: prov(id), ...(usedId ? { usedId } : {})
    })
    expect(mempUpdate(emptyMemp, [o("a", true), o("b", false)], "vanilla", embed).added).toEqual(["memp-a", "memp-b"])
    expect(mempUpdate(emptyMemp, [o("a", true), o("b", false)], "validation", embed).added).toEqual(["memp-a"])
    let s = mempUpdate(emptyMemp, [o("a", true)], "adjustment", embed).store
    s = mempUpdate(s, [o("f1", false, "memp-a")], "adjustment", embed).store
    expect(s.items[0]!.avoid).toEqual([[44, 2]])
    expect(s.items[0]!.hits).toBe(1)
    // hits 3, successes 1 -> 1/3 < 0.5: deleted
    const u = mempUpdate(s, [o("f2", false, "memp-a"), o("s3", true, "memp-a")], "adjustment", embed)
    expect(u.removed.map((i) => i.id)).toEqual(["memp-a"])
    expect(u.store.items.map((i) => i.id)).toEqual(["memp-s3"])
  })

  it("retrieval keys: query and ave_fact rank the matching task first; random is seeded", () => {
    const items = mempUpdate(emptyMemp, [
      { problemId: "p1", query: prompt(60, [20, 21, 22]), response: [40], success: true, prov: prov("a") },
      { problemId: "p2", query: prompt(70, [23, 24, 25]), response: [41], success: true, prov: prov("b") }
    ], "validation", embed).store
    for (const key of ["query", "ave_fact"] as const) {
      const r = mempRetrieve(items, prompt(60, [20, 21, 23]), key, 1, embed, Rng.root(1), { memorySize: 10, queryThreshold: -1, factThreshold: -1, maxAvoid: 3 })
      expect(r[0]!.problemId).toBe("p1")
    }
    const r1 = mempRetrieve(items, [], "random", 2, embed, Rng.root(7))
    expect(mempRetrieve(items, [], "random", 2, embed, Rng.root(7))).toEqual(r1)
    expect(r1.length).toBe(2)
  })
})
