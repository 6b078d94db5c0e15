/**
 * src/core/Codec.ts throughput (encode / decode MB/s) and the cost of canonicalisation: each row is
 * compared with a raw msgpackr pack/unpack (same `moreTypes` options, no canonical copy) of the same
 * value, measured in the same run. Payloads: (a) one large record holding a Float32Array of 2.5M floats
 * (10 MB, a weights checkpoint), (b) 40k small memory-like records (strings, numbers, a short array).
 * Run: node_modules/.bin/node bench/memory/codec.bench.ts     (or: npm run bench codec)
 */
import { Packr } from "msgpackr"
import { decode, encode } from "../../src/core/Codec.ts"

const raw = new Packr({ moreTypes: true })

const large = { name: "policy/weights", shape: [2500, 1000], step: 1200, w: new Float32Array(2_500_000).map((_, i) => Math.sin(i)) }
const small = Array.from({ length: 40_000 }, (_, i) => ({
  id: `insight/${i}`,
  text: `when the list is sorted, ${i % 7} pointers meet in the middle`,
  conf: (i % 100) / 100,
  step: i >> 4,
  rollouts: [i, i + 1, i + 2]
}))

const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
/**
 * Median times (ms) of `base` and `subject`, measured alternately (and in alternating order, so that
 * neither always runs right after the other's garbage) so that machine noise hits both alike.
 */
const pair = (reps: number, base: () => unknown, subject: () => unknown): [number, number] => {
  base()
  subject()
  const xs: Array<number> = []
  const ys: Array<number> = []
  const time = (f: () => unknown, into: Array<number>) => {
    const t = performance.now()
    f()
    into.push(performance.now() - t)
  }
  for (let i = 0; i < reps; i++) {
    if (i % 2 === 0) (time(base, xs), time(subject, ys))
    else (time(subject, ys), time(base, xs))
  }
  return [median(xs), median(ys)]
}

const rows = []
for (const [name, value, reps] of [["(a) Float32Array 10 MB", large, 20], ["(b) 40k small records", small, 14]] as const) {
  const canonBytes = encode(value)
  const rawBytes = raw.pack(value)
  // same value, so the sizes agree; the bytes differ only where raw msgpackr keeps insertion order
  if (canonBytes.length !== rawBytes.length) throw new Error(`${name}: size differs from raw msgpackr`)
  const mb = canonBytes.length / 1e6
  const rates = (op: string, [r, c]: [number, number]) => ({
    payload: name,
    op,
    MB: mb.toFixed(1),
    "raw msgpackr MB/s": ((mb / r) * 1000).toFixed(0),
    "Codec MB/s": ((mb / c) * 1000).toFixed(0),
    "Codec time x raw": (c / r).toFixed(2)
  })
  rows.push(
    rates("encode", pair(reps, () => raw.pack(value), () => encode(value))),
    rates("decode", pair(reps, () => raw.unpack(rawBytes), () => decode(canonBytes)))
  )
}
console.log("Codec.encode/decode vs raw msgpackr (moreTypes), median wall time")
console.table(rows)
