/**
 * Vector helpers over Float32Array embeddings. Arithmetic is in float64 in a fixed loop order, so the
 * same inputs give the same bits on every run (no SIMD reassociation as in native libraries).
 */

/** Dot product (float64 accumulation, index order). */
export const dot = (a: Float32Array, b: Float32Array): number => {
  const n = Math.min(a.length, b.length)
  let s = 0
  for (let i = 0; i < n; i++) s += a[i]! * b[i]!
  return s
}

export const norm = (a: Float32Array): number => Math.sqrt(dot(a, a))

/** Cosine similarity; 0 when either vector is zero (an empty sequence is similar to nothing). */
export const cosine = (a: Float32Array, b: Float32Array): number => {
  const na = norm(a)
  const nb = norm(b)
  return na === 0 || nb === 0 ? 0 : dot(a, b) / (na * nb)
}

/** L2-normalised copy (the zero vector stays zero). */
export const normalize = (a: ArrayLike<number>): Float32Array => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!
  const out = new Float32Array(a.length)
  if (s === 0) return out
  const inv = 1 / Math.sqrt(s)
  for (let i = 0; i < a.length; i++) out[i] = a[i]! * inv
  return out
}

/** Normalised mean of vectors (a centroid direction); zero vector for an empty list. */
export const meanDirection = (vs: ReadonlyArray<Float32Array>, dim: number): Float32Array => {
  const acc = new Float64Array(dim)
  for (const v of vs) for (let i = 0; i < dim; i++) acc[i]! += v[i] ?? 0
  return normalize(acc)
}

export interface Scored {
  readonly id: string
  readonly score: number
}

/** Sort by score descending, ties by id ascending: the one canonical order of every ranking here. */
export const byScoreThenId = (a: Scored, b: Scored): number =>
  b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
