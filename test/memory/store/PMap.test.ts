import { describe, expect, it } from "vitest"
import { fc, test as fcTest } from "@fast-check/vitest"
import { canonical } from "../../../src/core/Codec.ts"
import { SnapshotInvalidInput } from "../../../src/memory/store/errors.ts"
import { EMPTY_ID } from "../../../src/memory/store/node.ts"
import { PMap } from "../../../src/memory/store/PMap.ts"

/** A random edit script over a small key space, so that sets, overwrites and deletes collide often. */
const key = fc.stringMatching(/^[a-e]{1,2}$/)
const value = fc.oneof(fc.integer(), fc.string({ maxLength: 4 }), fc.record({ n: fc.integer(), s: fc.string({ maxLength: 3 }) }))
const edit = fc.oneof(
  fc.record({ key, value }),
  fc.record({ key, delete: fc.constant(true as const) })
)
type ScriptEdit = { readonly key: string; readonly value?: unknown; readonly delete?: true }
const script: fc.Arbitrary<Array<ScriptEdit>> = fc.array(edit, { maxLength: 60 })

const replayModel = (edits: ReadonlyArray<{ key: string; value?: unknown; delete?: true }>): Map<string, unknown> => {
  const m = new Map<string, unknown>()
  for (const e of edits) e.delete === true ? m.delete(e.key) : m.set(e.key, e.value)
  return m
}

const fromScriptOneByOne = (edits: ReadonlyArray<{ key: string; value?: unknown; delete?: true }>): PMap => {
  let m = PMap.empty()
  for (const e of edits) m = e.delete === true ? m.delete(e.key) : m.set(e.key, e.value)
  return m
}

describe("PMap", () => {
  fcTest.prop([script], { numRuns: 300, seed: 11 })("behaves like a Map under any edit script", (edits) => {
    const model = replayModel(edits)
    const m = fromScriptOneByOne(edits)
    expect(m.size).toBe(model.size)
    const sorted = [...model.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([k, v]) => [k, canonical(v)])
    expect(m.entries()).toStrictEqual(sorted)
    for (const k of ["a", "b", "zz"]) expect(m.get(k)).toStrictEqual(model.has(k) ? canonical(model.get(k)) : undefined)
  })

  fcTest.prop([script], { numRuns: 300, seed: 12 })("id depends only on contents: any edit path, batch or builder", (edits) => {
    const model = replayModel(edits)
    const stepwise = fromScriptOneByOne(edits)
    const batched = PMap.empty().update(edits.map((e) => (e.delete === true ? { key: e.key, delete: true } : { key: e.key, value: e.value })))
    const reversed = PMap.fromEntries([...model.entries()].reverse())
    const builder = PMap.empty().edit()
    for (const e of edits) e.delete === true ? builder.delete(e.key) : builder.set(e.key, e.value)
    expect(batched.id).toBe(stepwise.id)
    expect(reversed.id).toBe(stepwise.id)
    expect(builder.commit().id).toBe(stepwise.id)
    if (model.size === 0) expect(stepwise.id).toBe(EMPTY_ID)
  })

  fcTest.prop([fc.uniqueArray(fc.string({ maxLength: 8 }), { minLength: 1, maxLength: 200 }), fc.integer()], {
    numRuns: 50,
    seed: 13
  })("insertion order does not change the id (random permutations)", (keys, seed) => {
    const entries = keys.map((k, i) => [k, { i, k }] as const)
    const shuffled = fc.sample(fc.shuffledSubarray(entries, { minLength: entries.length }), { seed, numRuns: 1 })[0]!
    let a = PMap.empty()
    for (const [k, v] of entries) a = a.set(k, v)
    let b = PMap.empty()
    for (const [k, v] of shuffled) b = b.set(k, v)
    expect(b.id).toBe(a.id)
    // deleting everything in yet another order returns to the empty map
    let c = b
    for (const [k] of entries.slice().reverse()) c = c.delete(k)
    expect(c.id).toBe(EMPTY_ID)
    expect(c.size).toBe(0)
  })

  it("stored versions are immutable: mutating the input or a read-back value changes nothing", () => {
    const input = { tags: ["a"], weights: Float32Array.of(1, 2, 3), nested: { n: 1 } }
    const m1 = PMap.empty<typeof input>().set("x", input)
    const id = m1.id
    input.tags.push("b")
    input.weights[0] = 99
    input.nested.n = 2
    const read = m1.get("x")!
    expect(read).toStrictEqual({ nested: { n: 1 }, tags: ["a"], weights: Float32Array.of(1, 2, 3) })
    read.tags.push("c")
    read.weights[1] = -1
    read.nested.n = 3
    expect(m1.get("x")).toStrictEqual({ nested: { n: 1 }, tags: ["a"], weights: Float32Array.of(1, 2, 3) })
    expect(m1.entries()[0]![1]).toStrictEqual({ nested: { n: 1 }, tags: ["a"], weights: Float32Array.of(1, 2, 3) })
    expect(m1.id).toBe(id)
    // a builder encodes at set time too
    const b = m1.edit()
    const later = { n: 1 }
    b.set("y", later as never)
    later.n = 2
    expect(b.commit().get("y")).toStrictEqual({ n: 1 })
  })

  it("binary values read back are copies, not views into the stored bytes", () => {
    // msgpackr decodes `bin` (a Buffer) as a view into its input: reads must not alias the stored bytes
    const m = PMap.empty<unknown>().set("b", { bytes: Buffer.from([9, 9]), u8: Uint8Array.of(1, 2) })
    const read = m.get("b") as { bytes: Uint8Array; u8: Uint8Array }
    read.bytes[0] = 100
    read.u8[0] = 100
    expect(m.get("b")).toStrictEqual({ bytes: Uint8Array.of(9, 9), u8: Uint8Array.of(1, 2) })
    const entry = m.entries()[0]![1] as { bytes: Uint8Array }
    entry.bytes[1] = 100
    expect((m.get("b") as { bytes: Uint8Array }).bytes).toStrictEqual(Uint8Array.of(9, 9))
  })

  it("persistent: an update leaves the old map untouched", () => {
    const a = PMap.fromEntries([["k", 1], ["j", 2]])
    const b = a.set("k", 3).delete("j")
    expect(a.entries()).toStrictEqual([["j", 2], ["k", 1]])
    expect(b.entries()).toStrictEqual([["k", 3]])
    expect(a.set("k", 1)).toBe(a) // setting an equal value changes nothing, not even identity
  })

  it("rejects undefined values, unencodable values and non-string keys with a typed error", () => {
    const m = PMap.empty<unknown>()
    expect(() => m.set("k", undefined)).toThrow(SnapshotInvalidInput)
    expect(() => m.set("k", () => 1)).toThrow(SnapshotInvalidInput)
    expect(() => m.set("k", new (class Foo {})())).toThrow(/value for key "k"/)
    expect(() => m.set(1 as unknown as string, 1)).toThrow(SnapshotInvalidInput)
  })

  it("keys are ordered by code unit, independent of locale and insertion", () => {
    const m = PMap.fromEntries(["b", "a", "B", "ä", "aa", ""].map((k) => [k, k.length] as const))
    expect(m.keys()).toStrictEqual(["", "B", "a", "aa", "b", "ä"])
  })
})
