/**
 * Choosing the next token from one row of logits, in plain JS (float64), so the choice depends only
 * on the logits and the row's own Rng stream.
 *
 * The sampling distribution q: logits / temperature, minus banned tokens, restricted to the top-k,
 * then to the smallest top-p nucleus (ties broken by lower token id), renormalised. Temperature 0 is
 * greedy (argmax, lowest id on ties) and draws no random number; otherwise exactly one `rng.float()`
 * is drawn per token, so stream positions are easy to reason about.
 */
import type { Rng } from "../../core/Rng.ts"
import { NumericInputError } from "../errors.ts"

export interface SamplingParams {
  /** 0 = greedy. */
  readonly temperature: number
  /** Keep only the k most likely tokens (undefined or 0 = all). */
  readonly topK?: number
  /** Keep the smallest set of most likely tokens with total probability >= topP (undefined or 1 = all). */
  readonly topP?: number
  /** Token ids never sampled (e.g. PAD). */
  readonly bannedTokens?: ReadonlyArray<number>
}

export const validateSampling = (s: SamplingParams, V: number): void => {
  if (!(s.temperature >= 0) || !Number.isFinite(s.temperature)) throw new NumericInputError("sample", `temperature must be >= 0, got ${s.temperature}`)
  if (s.topK !== undefined && (!Number.isInteger(s.topK) || s.topK < 0)) throw new NumericInputError("sample", `topK must be a non-negative integer, got ${s.topK}`)
  if (s.topP !== undefined && !(s.topP > 0 && s.topP <= 1)) throw new NumericInputError("sample", `topP must be in (0, 1], got ${s.topP}`)
  for (const t of s.bannedTokens ?? []) if (!Number.isInteger(t) || t < 0 || t >= V) throw new NumericInputError("sample", `banned token ${t} outside [0, ${V})`)
  if ((s.bannedTokens?.length ?? 0) >= V) throw new NumericInputError("sample", "every token is banned")
}

export interface Pick {
  readonly token: number
  /** log p(token) under the model at temperature 1, no truncation. */
  readonly logProb: number
  /** log q(token) under the sampling distribution (0 for greedy). */
  readonly sampleLogProb: number
}

/** log-softmax of logits[off .. off+V) at index i, in float64. */
const modelLogProb = (logits: Float32Array, off: number, V: number, i: number): number => {
  let max = -Infinity
  for (let j = 0; j < V; j++) max = Math.max(max, logits[off + j]!)
  let s = 0
  for (let j = 0; j < V; j++) s += Math.exp(logits[off + j]! - max)
  return logits[off + i]! - max - Math.log(s)
}

const ID_SPAN = 2 ** 20 // ids below this fit under the ordered logit bits in a double's 53-bit mantissa
const f32 = new Float32Array(1)
const u32 = new Uint32Array(f32.buffer)

/**
 * Scratch reused by every pick (picks are synchronous and never nested): the sort keys, the
 * candidate ids and their weights. Allocating them per token was a quarter of a sampling call.
 */
let keys = new Float64Array(64)
let ids = new Int32Array(64)
let weights = new Float64Array(64)
let exps = new Float64Array(64)
const scratchFor = (V: number): void => {
  if (keys.length >= V) return
  keys = new Float64Array(V)
  ids = new Int32Array(V)
  weights = new Float64Array(V)
  exps = new Float64Array(V)
}

/** The banned tokens as a mask over the vocabulary (reused scratch: filled afresh for every pick). */
let mask = new Uint8Array(64)
const bannedMask = (banned: ReadonlyArray<number>, V: number): Uint8Array => {
  if (mask.length < V) mask = new Uint8Array(V)
  mask.fill(0, 0, V)
  for (const t of banned) if (t >= 0 && t < V) mask[t] = 1
  return mask
}

/**
 * Writes the ids that are not banned into `ids` by logit descending, then id ascending, and returns
 * their count, as one numeric sort of float64 keys (a typed-array sort without a comparator, several
 * times faster than a comparator sort): a key is the logit's float32 bits mapped to an
 * order-reversing unsigned integer (-0 read as +0, so the two zeros tie as in a comparison) times
 * 2^20, plus the id. Keys stay below 2^52, so they are exact.
 */
const sortInto = (logits: Float32Array, off: number, V: number, banned: Uint8Array): number => {
  if (V > ID_SPAN) throw new NumericInputError("sample", `vocabulary of ${V} tokens exceeds ${ID_SPAN}`)
  scratchFor(V)
  let n = 0
  for (let j = 0; j < V; j++) {
    if (banned[j] === 1) continue
    f32[0] = logits[off + j]! + 0 // -0 + 0 = +0
    const bits = u32[0]!
    const ascending = bits >= 0x80000000 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0 // float order as unsigned order
    keys[n++] = (0xffffffff - ascending) * ID_SPAN + j
  }
  const sorted = keys.subarray(0, n).sort()
  for (let i = 0; i < n; i++) ids[i] = sorted[i]! % ID_SPAN
  return n
}

/** Token ids (not banned) by logit descending, then id ascending (see `sortInto`). */
export const sortedCandidates = (logits: Float32Array, off: number, V: number, banned: ReadonlySet<number>): Array<number> => {
  const n = sortInto(logits, off, V, bannedMask([...banned], V))
  return Array.from(ids.subarray(0, n))
}

/**
 * Picks one token from logits[off .. off+V). The arithmetic (float64: the weights, their running
 * total, the nucleus cut and the draw's subtractions, each in candidate order) is fixed: a token's
 * choice and log-probs are part of a run's bits.
 */
export const pickToken = (logits: Float32Array, off: number, V: number, s: SamplingParams, rng: Rng): Pick => {
  const banned = bannedMask(s.bannedTokens ?? [], V)
  if (s.temperature === 0) {
    let best = -1
    for (let j = 0; j < V; j++) if (banned[j] !== 1 && (best < 0 || logits[off + j]! > logits[off + best]!)) best = j
    return { token: best, logProb: modelLogProb(logits, off, V, best), sampleLogProb: 0 }
  }
  // candidates sorted by logit desc, then id asc: the order top-k and top-p cut in
  const count = sortInto(logits, off, V, banned)
  let kept = s.topK !== undefined && s.topK > 0 ? Math.min(s.topK, count) : count
  const z0 = logits[off + ids[0]!]! / s.temperature
  let max = -Infinity
  for (let j = 0; j < V; j++) max = Math.max(max, logits[off + j]!)
  // At temperature 1, when no banned token holds the largest logit, a candidate's weight
  // exp(l / 1 - z0) is the very term exp(l - max) of the model's log-softmax: computed once, here.
  const shared = s.temperature === 1 && z0 === max
  let norm = 0
  if (shared) {
    for (let j = 0; j < V; j++) {
      exps[j] = Math.exp(logits[off + j]! - max)
      norm += exps[j]!
    }
  }
  let total = 0
  for (let i = 0; i < kept; i++) {
    weights[i] = shared ? exps[ids[i]!]! : Math.exp(logits[off + ids[i]!]! / s.temperature - z0)
    total += weights[i]!
  }
  if (s.topP !== undefined && s.topP < 1) {
    let cum = 0
    let n = 0
    while (n < kept) {
      cum += weights[n]!
      n++
      if (cum >= s.topP * total) break
    }
    kept = n
    total = cum
  }
  let u = rng.float() * total
  let chosen = kept - 1
  for (let i = 0; i < kept; i++) {
    u -= weights[i]!
    if (u < 0) {
      chosen = i
      break
    }
  }
  const token = ids[chosen]!
  const logProb = shared ? logits[off + token]! - max - Math.log(norm) : modelLogProb(logits, off, V, token)
  return { token, logProb, sampleLogProb: Math.log(weights[chosen]! / total) }
}
