/**
 * Behavior retrieval latency at 1k / 10k / 100k behaviors: HNSW (usearch, single-threaded build in id
 * order, as src/memory/retrieval/vectorIndex.ts uses it) vs exact (usearch's native exactSearch) vs
 * brute force (our float64 JS exact top-K, the baseline and the ground truth for recall@K).
 * Data: 64-d vectors around 256 seeded centres (embeddings of clustered problems are clustered too;
 * uniform noise would be HNSW's worst case). K = 3, 200 queries per size, one query at a time.
 * Run: node_modules/.bin/node bench/memory/retrieval.bench.ts
 */
import usearch, { type MetricKind } from "usearch"
import { Rng } from "../../src/core/Rng.ts"
import { normalize } from "../../src/memory/embed/vec.ts"
import { buildIndex, exactTopK } from "../../src/memory/retrieval/vectorIndex.ts"

const DIM = 64
const K = 3
const QUERIES = 200
const rng = Rng.root("bench/memory/retrieval")
const centres = Array.from({ length: 256 }, () => Float32Array.from({ length: DIM }, () => rng.normal()))
const sample = (): Float32Array => {
  const c = rng.pick(centres)
  return normalize(Float32Array.from(c, (x) => x + 0.6 * rng.normal()))
}
const pct = (xs: Array<number>, p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!
const fmt = (ms: number) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`)

const rows: Array<Array<string>> = []
for (const n of [1_000, 10_000, 100_000]) {
  const items = Array.from({ length: n }, (_, i) => ({ id: `b${String(i).padStart(6, "0")}`, vec: sample() }))
  const ids = items.map((x) => x.id)
  const vecs = items.map((x) => x.vec)
  const norms = vecs.map(() => 1)
  const queries = Array.from({ length: QUERIES }, sample)
  let t = performance.now()
  const hnsw = buildIndex(items, { exactBelow: 0, connectivity: 16, expansionAdd: n >= 100_000 ? 32 : 64, expansionSearch: 64 })
  const buildMs = performance.now() - t
  const time = (f: (q: Float32Array) => Array<string>) => {
    const lat: Array<number> = []
    const res: Array<Array<string>> = []
    for (const q of queries) {
      const s = performance.now()
      res.push(f(q))
      lat.push(performance.now() - s)
    }
    return { lat, res }
  }
  const brute = time((q) => exactTopK(ids, vecs, norms, q, K).map((s) => s.id))
  const hn = time((q) => hnsw.search(q, K).map((s) => s.id))
  const ex = time((q) => {
    const m = usearch.exactSearch(vecs, q, DIM, K, "cos" as MetricKind, 1) as { keys: BigUint64Array }
    return [...m.keys].map((k) => ids[Number(k)]!)
  })
  const recall = (res: Array<Array<string>>) =>
    res.reduce((acc, r, i) => acc + r.filter((id) => brute.res[i]!.includes(id)).length, 0) / (QUERIES * K)
  const base = pct(brute.lat, 0.5)
  for (const [name, r, extra] of [["brute force (JS, baseline)", brute, "-"], ["exact (usearch exactSearch)", ex, "-"], ["HNSW (usearch)", hn, `build ${(buildMs / 1000).toFixed(1)} s`]] as const) {
    rows.push([String(n), name, fmt(pct(r.lat, 0.5)), fmt(pct(r.lat, 0.99)), (base / pct(r.lat, 0.5)).toFixed(1) + "x", recall(r.res).toFixed(3), extra])
  }
}
const head = ["behaviors", "method", "p50", "p99", "speed-up vs brute (p50)", `recall@${K}`, "note"]
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
const line = (r: Array<string>) => r.map((c, i) => c.padEnd(widths[i]!)).join(" | ")
console.log(line(head))
console.log(widths.map((w) => "-".repeat(w)).join("-|-"))
for (const r of rows) console.log(line(r))
