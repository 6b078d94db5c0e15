import { describe, expect, it } from "vitest"
import { test as fcTest, fc } from "@fast-check/vitest"
import { canonical, CodecError, decode, encode } from "../../src/core/Codec.ts"
import { hashValue } from "../../src/core/Hash.ts"

// Arbitrary nested values: objects, arrays, Maps, Float32Arrays, bigints, strings, numbers.
const leaf = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: false }),
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.bigInt(),
  fc.float32Array({ maxLength: 8 }),
  fc.int32Array({ maxLength: 8 })
)
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small", withCrossShrink: true }, leaf, tie("array"), tie("object"), tie("map")),
  array: fc.array(tie("value"), { maxLength: 5 }),
  object: fc.dictionary(fc.string({ maxLength: 6 }), tie("value"), { maxKeys: 5 }),
  map: fc.array(fc.tuple(fc.oneof(fc.string({ maxLength: 4 }), fc.integer()), tie("value")), { maxLength: 4 })
    .map((es) => new Map(es))
}))

/** Reverse key insertion order everywhere (same value, different construction). */
const reorder = (v: unknown): unknown => {
  if (v === null || typeof v !== "object" || ArrayBuffer.isView(v)) return v
  if (Array.isArray(v)) return v.map(reorder)
  if (v instanceof Map) return new Map([...v.entries()].reverse().map(([k, x]) => [k, reorder(x)]))
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(v).reverse()) out[k] = reorder((v as Record<string, unknown>)[k])
  return out
}

describe("Codec", () => {
  fcTest.prop([value], { numRuns: 300, seed: 1 })("round-trips to the canonical value", (v) => {
    expect(decode(encode(v))).toStrictEqual(canonical(v))
  })

  fcTest.prop([value], { numRuns: 300, seed: 2 })("bytes do not depend on key insertion order", (v) => {
    expect(Buffer.from(encode(reorder(v))).equals(Buffer.from(encode(v)))).toBe(true)
  })

  fcTest.prop([value, value], { numRuns: 100, seed: 3 })("bytes do not depend on what was encoded before", (a, b) => {
    const first = encode(a)
    encode(b)
    expect(Buffer.from(encode(a)).equals(Buffer.from(first))).toBe(true)
  })

  it("keeps Float32Array bits exactly, NaN and -0 included", () => {
    const xs = new Float32Array([1.5, -0, Number.NaN, 3.4028234663852886e38, 1e-45])
    const back = decode(encode({ xs })) as { xs: Float32Array }
    expect(back.xs).toBeInstanceOf(Float32Array)
    expect(Buffer.from(back.xs.buffer, back.xs.byteOffset, back.xs.byteLength))
      .toEqual(Buffer.from(xs.buffer))
  })

  it("distinguishes different values and equates equal ones", () => {
    expect(hashValue({ a: 1, b: [1, 2] })).toBe(hashValue({ b: [1, 2], a: 1 }))
    expect(hashValue({ a: 1 })).not.toBe(hashValue({ a: 2 }))
    expect(hashValue(new Map([[1, "x"], [2, "y"]]))).toBe(hashValue(new Map([[2, "y"], [1, "x"]])))
  })

  it("rejects functions and cycles with a CodecError naming the path", () => {
    expect(() => encode({ f: () => 1 })).toThrow(CodecError)
    const cyc: Record<string, unknown> = {}
    cyc["self"] = cyc
    expect(() => encode({ a: cyc })).toThrow(/cycle at \.a\.self/)
  })
})
