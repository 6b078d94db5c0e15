/**
 * A fixed, seeded text embedder over token sequences: the stand-in for Qwen3-Embedding-0.6B.
 *
 * tokens -> counts of hashed token n-grams (n = 1..maxN, each n-gram hashed with FNV-1a into one of
 * `buckets` features, with a sign bit, as in the hashing trick) -> a seeded Gaussian random projection
 * to `dim` dimensions (Johnson-Lindenstrauss: cosines of the sparse feature vectors are roughly kept)
 * -> L2-normalised. The projection comes from Rng.at(["pmdsim/memory/embed", seed, dim, buckets]), so
 * the embedder is a pure function of (config, tokens): same bits in every process.
 *
 * Departure from the paper: a bag of n-grams captures shared sub-sequences (ops, digits, cues), not
 * meaning; two sequences with no n-gram in common have cosine ~0 whatever they "mean". The policy's
 * hidden states can be used instead through the `Embedder` type (any `(tokens) => Float32Array`).
 */
import { Rng } from "../../core/Rng.ts"
import { MemoryInputError } from "../types.ts"

/** Any fixed function from tokens to an embedding of a fixed dimension. */
export type Embedder = (tokens: ReadonlyArray<number>) => Float32Array

export interface HashEmbedConfig {
  readonly dim: number
  readonly buckets: number
  /** Longest n-gram counted (1 = bag of tokens). */
  readonly maxN: number
  readonly seed: number | string
}

export const defaultHashEmbedConfig: HashEmbedConfig = { dim: 64, buckets: 1024, maxN: 3, seed: "pmd-embed" }

const FNV_OFFSET = 0x811c9dc5
const FNV_PRIME = 0x01000193

/** FNV-1a over the 4 bytes of each token id, seeded with n so equal tokens at different n differ. */
const hashGram = (tokens: ReadonlyArray<number>, start: number, n: number): number => {
  let h = (FNV_OFFSET ^ n) >>> 0
  for (let i = start; i < start + n; i++) {
    let t = tokens[i]!
    for (let b = 0; b < 4; b++) {
      h = Math.imul(h ^ (t & 0xff), FNV_PRIME) >>> 0
      t >>>= 8
    }
  }
  return h
}

/** A seeded hashed-n-gram embedder (pure; the projection matrix is built once). */
export const makeHashEmbedder = (config: Partial<HashEmbedConfig> = {}): Embedder & { readonly config: HashEmbedConfig } => {
  const cfg = { ...defaultHashEmbedConfig, ...config }
  if (!Number.isInteger(cfg.dim) || cfg.dim < 1) throw new MemoryInputError(`embed dim must be >= 1, got ${cfg.dim}`)
  if (!Number.isInteger(cfg.buckets) || cfg.buckets < 1) throw new MemoryInputError(`embed buckets must be >= 1`)
  if (!Number.isInteger(cfg.maxN) || cfg.maxN < 1) throw new MemoryInputError(`embed maxN must be >= 1`)
  const rng = Rng.at(["pmdsim/memory/embed", cfg.seed, cfg.dim, cfg.buckets])
  const proj = new Float32Array(cfg.buckets * cfg.dim)
  for (let i = 0; i < proj.length; i++) proj[i] = rng.normal()
  const embed = (tokens: ReadonlyArray<number>): Float32Array => {
    const acc = new Float64Array(cfg.dim)
    for (let n = 1; n <= cfg.maxN; n++) {
      for (let s = 0; s + n <= tokens.length; s++) {
        const h = hashGram(tokens, s, n)
        const row = (h % cfg.buckets) * cfg.dim
        const sign = (h >>> 31) === 1 ? -1 : 1
        for (let d = 0; d < cfg.dim; d++) acc[d]! += sign * proj[row + d]!
      }
    }
    let ss = 0
    for (let d = 0; d < cfg.dim; d++) ss += acc[d]! * acc[d]!
    const out = new Float32Array(cfg.dim)
    if (ss === 0) return out
    const inv = 1 / Math.sqrt(ss)
    for (let d = 0; d < cfg.dim; d++) out[d] = acc[d]! * inv
    return out
  }
  return Object.assign(embed, { config: cfg })
}
