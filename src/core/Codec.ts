/**
 * Canonical binary codec: msgpackr with `moreTypes` (typed arrays, Maps, bigints round-trip exactly),
 * over a canonicalised copy of the value so that the bytes depend only on the value, never on key
 * insertion order or on what was encoded before.
 *
 * Canonical form: plain-object keys sorted by code unit; Map entries and Set members sorted by the
 * canonical bytes of their keys; arrays keep their order. Functions, symbols and cycles are rejected.
 * These bytes are what every content hash in pmdsim is taken over (see Hash.ts).
 */
import { Packr } from "msgpackr"

/** A value the codec cannot represent (function, symbol, cycle, class instance with hidden state). */
export class CodecError extends Error {
  readonly _tag = "CodecError"
  readonly path: string
  readonly reason: string
  constructor(path: string, reason: string) {
    super(`codec: ${reason} at ${path || "<root>"}`)
    this.path = path
    this.reason = reason
  }
}

// One Packr per call is not needed: without `structures`, msgpackr writes records inline per message,
// so its output has no history (checked by test/core/Codec.test.ts).
const packr = new Packr({ moreTypes: true })

const compareBytes = (a: Uint8Array, b: Uint8Array): number => {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}

const isPlainObject = (v: object): boolean => {
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

const canonicalize = (value: unknown, path: string, seen: Set<object>): unknown => {
  switch (typeof value) {
    case "function":
    case "symbol":
      throw new CodecError(path, `cannot encode a ${typeof value}`)
    case "object":
      break
    default:
      return value
  }
  if (value === null) return null
  if (ArrayBuffer.isView(value)) return value
  if (value instanceof Date) return value
  if (seen.has(value)) throw new CodecError(path, "cycle")
  seen.add(value)
  try {
    if (Array.isArray(value)) return value.map((x, i) => canonicalize(x, `${path}[${i}]`, seen))
    if (value instanceof Map) {
      const entries = [...value.entries()].map(([k, v], i) => {
        const key = canonicalize(k, `${path}.<key ${i}>`, seen)
        return [packr.pack(key), key, canonicalize(v, `${path}.<value ${i}>`, seen)] as const
      })
      entries.sort((a, b) => compareBytes(a[0], b[0]))
      return new Map(entries.map(([, k, v]) => [k, v]))
    }
    if (value instanceof Set) {
      const members = [...value].map((m, i) => {
        const c = canonicalize(m, `${path}.<member ${i}>`, seen)
        return [packr.pack(c), c] as const
      })
      members.sort((a, b) => compareBytes(a[0], b[0]))
      return new Set(members.map(([, c]) => c))
    }
    if (!isPlainObject(value)) {
      throw new CodecError(path, `cannot encode an instance of ${value.constructor?.name ?? "an unknown class"}`)
    }
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key]
      if (v !== undefined) out[key] = canonicalize(v, `${path}.${key}`, seen)
    }
    return out
  } finally {
    seen.delete(value)
  }
}

/** The canonical form of a value (sorted keys, sorted Map/Set entries, undefined fields dropped). */
export const canonical = (value: unknown): unknown => canonicalize(value, "", new Set())

/** Canonical bytes of a value: equal values give equal bytes. Throws CodecError on unencodable input. */
export const encode = (value: unknown): Uint8Array => packr.pack(canonical(value))

/** Decodes bytes written by `encode`. Throws on malformed input (callers wrap it in a typed error). */
export const decode = (bytes: Uint8Array): unknown => packr.unpack(bytes)
