import { describe, expect, it } from "vitest"
import { BranchExists, SnapshotInvalidInput, VersionNotFound } from "../../../src/memory/store/errors.ts"
import { PMap } from "../../../src/memory/store/PMap.ts"
import { VersionStore } from "../../../src/memory/store/Versions.ts"

const meta = (step: number, label = "t") => ({ step, policyVersion: 0, label })

const bigMap = (n: number) => PMap.fromEntries<unknown>(Array.from({ length: n }, (_, i) => [`item/${i}`, { i, text: `t${i}` }] as const))

describe("VersionStore", () => {
  it("records a parent chain with seq, meta and content-addressed ids", () => {
    const s = VersionStore.empty()
    const m0 = PMap.fromEntries([["a", 1]])
    const v0 = s.commit("main", m0, meta(0, "init")).version
    const v1 = s.commit("main", m0.set("b", 2), meta(1, "add")).version
    expect(v0).toMatchObject({ parent: null, seq: 0, root: m0.id, meta: { step: 0, policyVersion: 0, label: "init" } })
    expect(v1).toMatchObject({ parent: v0.id, seq: 1 })
    expect(s.log("main").map((v) => v.id)).toStrictEqual([v1.id, v0.id])
    expect(s.log("main", 1).map((v) => v.id)).toStrictEqual([v1.id])
    // the same history in another store gives the same ids
    const t = VersionStore.empty()
    t.commit("main", PMap.fromEntries([["a", 1]]), meta(0, "init"))
    expect(t.commit("main", PMap.fromEntries([["b", 2], ["a", 1]]), meta(1, "add")).version.id).toBe(v1.id)
    expect(s.read(v0.id).get("b")).toBeUndefined()
    // version records are frozen: a caller cannot rewrite history through a returned object
    expect(() => ((v1.meta as { label: string }).label = "forged")).toThrow(TypeError)
    expect(s.version(v1.id).meta.label).toBe("add")
    expect(s.read("main").get("b")).toBe(2)
  })

  it("fork starts a branch sharing all nodes; distance measures staleness along a branch", () => {
    const s = VersionStore.empty()
    const base = bigMap(2000)
    const v0 = s.commit("main", base, meta(0)).version
    const nodesBefore = s.nodeCount
    s.fork(v0.id, "exp")
    expect(s.nodeCount).toBe(nodesBefore)
    const e1 = s.commit("exp", s.read("exp").set("x", 1), meta(1)).version
    s.commit("main", base.set("y", 1), meta(1))
    const m2 = s.commit("main", s.read("main").set("z", 1), meta(2)).version
    expect(e1.parent).toBe(v0.id)
    expect(s.branches().map(([b]) => b)).toStrictEqual(["exp", "main"])
    expect(s.distance(v0.id, "main")).toBe(2)
    expect(s.distance(v0.id, e1.id)).toBe(1)
    expect(s.distance(e1.id, m2.id)).toBeUndefined()
    expect(s.diff(v0.id, "exp")).toStrictEqual({ added: [{ key: "x", value: 1 }], removed: [], changed: [] })
    expect(() => s.fork(v0.id, "exp")).toThrow(BranchExists)
  })

  it("fails with typed errors on unknown refs and bad meta", () => {
    const s = VersionStore.empty()
    expect(() => s.read("nope")).toThrow(VersionNotFound)
    expect(() => s.log("nope")).toThrow(VersionNotFound)
    expect(() => s.commit("main", PMap.empty(), { step: -1, policyVersion: 0, label: "" })).toThrow(SnapshotInvalidInput)
    expect(() => s.commit("main", PMap.empty(), { step: 0.5, policyVersion: 0, label: "" })).toThrow(SnapshotInvalidInput)
    expect(() => s.commit("", PMap.empty(), meta(0))).toThrow(SnapshotInvalidInput)
    expect(s.head("main")).toBeUndefined()
  })

  it("committing one change creates O(1) new nodes, bounded and not growing from 1k to 100k entries", () => {
    const newNodesAt = (n: number) => {
      const s = VersionStore.empty()
      const base = bigMap(n)
      const first = s.commit("main", base, meta(0))
      expect(first.newNodes).toBe(s.nodeCount)
      const counts: Array<number> = []
      let m = base
      // a few edits of each kind: overwrite, insert, delete
      for (const [i, op] of [[1, "set"], [n - 1, "set"], [n + 5, "set"], [7, "delete"], [n >> 1, "delete"]] as const) {
        m = op === "set" ? m.set(`item/${i}`, { i: -1 }) : m.delete(`item/${i}`)
        const before = s.nodeCount
        const r = s.commit("main", m, meta(counts.length + 1))
        // the reported count is the growth of the node table: new ids only
        expect(s.nodeCount - before).toBe(r.newNodes)
        counts.push(r.newNodes)
      }
      return counts
    }
    const small = newNodesAt(1_000)
    const large = newNodesAt(100_000)
    // depth + 1 nodes: log16(100k) ~ 4.2, so at most ~7 even on an unlucky path; never proportional to n
    for (const c of [...small, ...large]) expect(c).toBeLessThanOrEqual(8)
    expect(Math.max(...large)).toBeLessThanOrEqual(Math.max(...small) + 3)
  })
})
