import { describe, expect, it } from "vitest"
import { fc, test as fcTest } from "@fast-check/vitest"
import { applyDiff, diff, isEmptyDiff } from "../../../src/memory/store/diff.ts"
import { DiffConflict } from "../../../src/memory/store/errors.ts"
import { type Edit, PMap } from "../../../src/memory/store/PMap.ts"

const key = fc.stringMatching(/^[a-h]{1,2}$/)
const value = fc.oneof(fc.integer({ min: 0, max: 5 }), fc.record({ v: fc.integer({ min: 0, max: 3 }) }))
const edits = fc.array(
  fc.oneof(fc.record({ key, value }), fc.record({ key, delete: fc.constant(true as const) })),
  { maxLength: 40 }
) as fc.Arbitrary<Array<Edit<unknown>>>

describe("diff / applyDiff", () => {
  fcTest.prop([edits, edits], { numRuns: 300, seed: 21 })("diff(a, b) applied to a gives b", (base, change) => {
    const a = PMap.empty().update(base)
    const b = a.update(change)
    const d = diff(a, b)
    expect(applyDiff(a, d).id).toBe(b.id)
    // and the reverse direction
    expect(applyDiff(b, diff(b, a)).id).toBe(a.id)
    // every reported key really differs, and the lists are sorted by key
    for (const { key } of d.changed) expect(a.get(key)).not.toStrictEqual(b.get(key))
    for (const list of [d.added, d.removed, d.changed]) {
      const keys = list.map((e) => e.key)
      expect(keys).toStrictEqual([...keys].sort())
    }
  })

  fcTest.prop([edits], { numRuns: 100, seed: 22 })("diff of identical snapshots is empty", (base) => {
    const a = PMap.empty().update(base)
    const rebuilt = PMap.fromEntries(a.entries().reverse())
    expect(isEmptyDiff(diff(a, a))).toBe(true)
    expect(isEmptyDiff(diff(a, rebuilt))).toBe(true)
  })

  it("reports added, removed and changed entries with values", () => {
    const a = PMap.fromEntries<unknown>([["keep", 1], ["gone", 2], ["edit", { x: 1 }]])
    const b = a.delete("gone").set("edit", { x: 2 }).set("new", [3])
    expect(diff(a, b)).toStrictEqual({
      added: [{ key: "new", value: [3] }],
      removed: [{ key: "gone", value: 2 }],
      changed: [{ key: "edit", before: { x: 1 }, after: { x: 2 } }]
    })
  })

  it("applyDiff refuses a base the diff was not taken from", () => {
    const a = PMap.fromEntries<unknown>([["k", 1], ["j", 1]])
    const d = diff(a, a.set("k", 2).delete("j").set("n", 0))
    expect(() => applyDiff(a.set("k", 5), d)).toThrow(DiffConflict)
    expect(() => applyDiff(a.delete("j"), d)).toThrow(/removed key is absent/)
    expect(() => applyDiff(a.set("n", 9), d)).toThrow(/added key is already present/)
  })

  it("visits only changed paths: one edit in 20k entries decodes one entry", () => {
    const a = PMap.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i] as const))
    const b = a.set("k777", -1)
    expect(diff(a, b)).toStrictEqual({ added: [], removed: [], changed: [{ key: "k777", before: 777, after: -1 }] })
  })
})
