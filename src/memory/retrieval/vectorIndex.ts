/**
 * A top-K cosine index over (id, vector) pairs: exact brute force below `exactBelow` items, usearch
 * HNSW above (stack-notes §5).
 *
 * Determinism: items are inserted one at a time, single-threaded, in id order, so the HNSW graph (and
 * every result) is a function of the set of items; results are re-scored with the exact cosine and
 * re-sorted by (score desc, id asc), so equal scores never come back in arrival order. Exact search
 * computes cosines in float64 with the formula of `cosine` (vec.ts): it equals a brute-force cosine
 * top-K bit for bit, and ties go to the smallest id. HNSW is approximate: recall < 1 is possible (measured in
 * bench/memory/retrieval.bench.ts); it is never used below the threshold.
 * usearch keys are bigint; they stay inside this module (position in id order).
 */
import usearch, { type MetricKind, type ScalarKind } from "usearch"
import { compareStrings } from "../../core/Order.ts"
import { byScoreThenId, dot, norm, normalize, type Scored } from "../embed/vec.ts"
import { MemoryInputError } from "../types.ts"

export interface IndexConfig {
  /** Below this many items, search is exact. */
  readonly exactBelow: number
  readonly connectivity: number
  readonly expansionAdd: number
  readonly expansionSearch: number
}

export const defaultIndexConfig: IndexConfig = { exactBelow: 2048, connectivity: 16, expansionAdd: 128, expansionSearch: 64 }

export interface VectorIndex {
  readonly size: number
  readonly exact: boolean
  search(query: Float32Array, k: number): Array<Scored>
}

/** Exact cosine top-K: the same float64 formula as `cosine` (vec.ts), ties by id. */
export const exactTopK = (ids: ReadonlyArray<string>, vecs: ReadonlyArray<Float32Array>, norms: ReadonlyArray<number>, query: Float32Array, k: number): Array<Scored> => {
  const nq = norm(query)
  const out: Array<Scored> = []
  for (let i = 0; i < ids.length; i++) {
    const n = norms[i]!
    const s: Scored = { id: ids[i]!, score: n === 0 || nq === 0 ? 0 : dot(vecs[i]!, query) / (n * nq) }
    if (out.length < k) {
      out.push(s)
      if (out.length === k) out.sort(byScoreThenId)
    } else if (k > 0 && byScoreThenId(s, out[k - 1]!) < 0) {
      out[k - 1] = s
      for (let j = k - 1; j > 0 && byScoreThenId(out[j]!, out[j - 1]!) < 0; j--) [out[j], out[j - 1]] = [out[j - 1]!, out[j]!]
    }
  }
  return out.sort(byScoreThenId)
}

export const buildIndex = (
  items: ReadonlyArray<{ readonly id: string; readonly vec: Float32Array }>,
  config: IndexConfig = defaultIndexConfig
): VectorIndex => {
  const sorted = [...items].sort((a, b) => compareStrings(a.id, b.id))
  const dim = sorted[0]?.vec.length ?? 0
  for (let i = 0; i < sorted.length; i++) {
    if (sorted[i]!.vec.length !== dim) throw new MemoryInputError(`index: vector of ${sorted[i]!.id} has dim ${sorted[i]!.vec.length}, expected ${dim}`)
    if (i > 0 && sorted[i]!.id === sorted[i - 1]!.id) throw new MemoryInputError(`index: duplicate id ${sorted[i]!.id}`)
  }
  const ids = sorted.map((s) => s.id)
  const vecs = sorted.map((s) => s.vec)
  const norms = vecs.map(norm)
  const checkK = (k: number) => {
    if (!Number.isInteger(k) || k < 0) throw new MemoryInputError(`top-k must be a non-negative integer, got ${k}`)
  }
  if (sorted.length < config.exactBelow || dim === 0) {
    return {
      size: ids.length, exact: true,
      search: (q, k) => {
        checkK(k)
        return exactTopK(ids, vecs, norms, q, k)
      }
    }
  }
  const index = new usearch.Index({
    dimensions: dim, metric: "cos" as MetricKind, quantization: "f32" as ScalarKind,
    connectivity: config.connectivity, expansion_add: config.expansionAdd, expansion_search: config.expansionSearch, multi: false
  })
  for (let i = 0; i < vecs.length; i++) index.add(BigInt(i), normalize(vecs[i]!), 1)
  return {
    size: ids.length, exact: false,
    search: (q, k) => {
      checkK(k)
      if (k === 0) return []
      // over-fetch a little so equal-score neighbours at the cut can be ordered by id
      const m = index.search(normalize(q), Math.min(ids.length, k + 4), 1)
      const nq = norm(q)
      const out: Array<Scored> = []
      for (let j = 0; j < m.keys.length; j++) {
        const i = Number(m.keys[j]!)
        const n = norms[i]!
        out.push({ id: ids[i]!, score: n === 0 || nq === 0 ? 0 : dot(vecs[i]!, q) / (n * nq) })
      }
      return out.sort(byScoreThenId).slice(0, k)
    }
  }
}
