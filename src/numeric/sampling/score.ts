/**
 * Teacher scoring and sequence embeddings: one forward pass over right-padded (context ++ response)
 * rows, read back as plain arrays.
 *
 * `scoreResponses` returns, for response token i of row r, the full log-prob vector over the vocab
 * of the model's prediction at that position (conditioned on the context and response tokens < i).
 * Rows are processed in chunks of `batchSize` to bound memory; a row's values do not depend on the
 * chunk it is in (same argument as sample.ts).
 */
import { NumericInputError } from "../errors.ts"
import type { ModelConfig } from "../model/config.ts"
import { forward, hiddenStates } from "../model/forward.ts"
import type { Params } from "../model/params.ts"
import { tf } from "../tf.ts"
import { checkTokens, padRight } from "./rows.ts"

export interface ScoredResponse {
  /** [n, V] row-major: log p(. | context, response[:i]) for each response position i. */
  readonly logProbs: Float32Array
  /** [n]: log p(response[i] | ...), the entries of logProbs at the actual tokens. */
  readonly tokenLogProbs: Float32Array
}

const chunks = <A>(xs: ReadonlyArray<A>, n: number): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n))
  return out
}

export const scoreResponses = (
  params: Params,
  cfg: ModelConfig,
  contexts: ReadonlyArray<ReadonlyArray<number>>,
  responses: ReadonlyArray<ReadonlyArray<number>>,
  options: { readonly batchSize?: number; readonly padToken?: number } = {}
): Array<ScoredResponse> => {
  if (contexts.length !== responses.length) throw new NumericInputError("scoreResponses", `${contexts.length} contexts but ${responses.length} responses`)
  const V = cfg.vocabSize
  const rows = contexts.map((c, i) => {
    const r = responses[i]!
    if (c.length === 0) throw new NumericInputError("scoreResponses", `row ${i}: empty context (start it with BOS)`)
    if (c.length + r.length > cfg.contextLength) throw new NumericInputError("scoreResponses", `row ${i}: ${c.length} + ${r.length} tokens > contextLength ${cfg.contextLength}`)
    checkTokens("scoreResponses", cfg, c)
    checkTokens("scoreResponses", cfg, r)
    return { ctx: c.length, resp: r, seq: [...c, ...r] }
  })
  const out: Array<ScoredResponse> = []
  for (const chunk of chunks(rows, options.batchSize ?? 64)) {
    const B = chunk.length
    const T = Math.max(...chunk.map((r) => r.seq.length))
    // positions ctx-1 .. ctx+n-2 predict the n response tokens
    const idx: Array<number> = []
    chunk.forEach((r, b) => r.resp.forEach((_, i) => idx.push(b * T + r.ctx - 1 + i)))
    const lp =
      idx.length === 0
        ? new Float32Array(0)
        : tf.tidy(() => {
            const logits = forward(params, cfg, tf.tensor2d(padRight(chunk.map((r) => r.seq), T, options.padToken ?? 0), [B, T], "int32"))
            return tf.logSoftmax(tf.gather(logits.reshape([B * T, V]), tf.tensor1d(Int32Array.from(idx), "int32"))).dataSync() as Float32Array
          })
    let off = 0
    for (const r of chunk) {
      const n = r.resp.length
      const logProbs = lp.slice(off * V, (off + n) * V)
      out.push({ logProbs, tokenLogProbs: Float32Array.from(r.resp, (t, i) => logProbs[i * V + t]!) })
      off += n
    }
  }
  return out
}

export interface TopK {
  /** [n, k] token ids, most likely first (ties: lower id first). */
  readonly indices: Int32Array
  /** [n, k] their log-probs. */
  readonly values: Float32Array
  /** [n] probability mass outside the top k (>= 0). */
  readonly tailMass: Float32Array
}

/** Per-position top-k of a [n, V] log-prob matrix (e.g. ScoredResponse.logProbs). Pure JS. */
export const topKLogProbs = (logProbs: Float32Array, V: number, k: number): TopK => {
  if (!Number.isInteger(k) || k < 1 || k > V) throw new NumericInputError("topKLogProbs", `k must be in [1, ${V}], got ${k}`)
  if (logProbs.length % V !== 0) throw new NumericInputError("topKLogProbs", `length ${logProbs.length} is not a multiple of V=${V}`)
  const n = logProbs.length / V
  const indices = new Int32Array(n * k)
  const values = new Float32Array(n * k)
  const tailMass = new Float32Array(n)
  const ids = Array.from({ length: V }, (_, j) => j)
  for (let i = 0; i < n; i++) {
    const o = i * V
    const order = [...ids].sort((a, b) => logProbs[o + b]! - logProbs[o + a]! || a - b)
    let mass = 0
    for (let j = 0; j < k; j++) {
      const t = order[j]!
      indices[i * k + j] = t
      values[i * k + j] = logProbs[o + t]!
      mass += Math.exp(logProbs[o + t]!)
    }
    tailMass[i] = Math.max(0, 1 - mass)
  }
  return { indices, values, tailMass }
}

/** Mean-pooled final hidden state (after the final LayerNorm) of each sequence: one Float32Array(dModel) each. */
export const embedSequences = (
  params: Params,
  cfg: ModelConfig,
  seqs: ReadonlyArray<ReadonlyArray<number>>,
  options: { readonly batchSize?: number; readonly padToken?: number } = {}
): Array<Float32Array> => {
  seqs.forEach((s, i) => {
    if (s.length === 0 || s.length > cfg.contextLength) throw new NumericInputError("embedSequences", `row ${i}: length ${s.length} outside [1, ${cfg.contextLength}]`)
    checkTokens("embedSequences", cfg, s)
  })
  const d = cfg.dModel
  const out: Array<Float32Array> = []
  for (const chunk of chunks(seqs, options.batchSize ?? 64)) {
    const B = chunk.length
    const T = Math.max(...chunk.map((s) => s.length))
    const w = new Float32Array(B * T) // [B, T] averaging weights, 1/len on real positions
    chunk.forEach((s, b) => w.fill(1 / s.length, b * T, b * T + s.length))
    const pooled = tf.tidy(() => {
      const h = hiddenStates(params, cfg, tf.tensor2d(padRight(chunk, T, options.padToken ?? 0), [B, T], "int32")) // [B*T, d]
      return h.reshape([B, T, d]).mul(tf.tensor3d(w, [B, T, 1])).sum(1).dataSync() as Float32Array // [B, d]
    })
    for (let b = 0; b < B; b++) out.push(pooled.slice(b * d, (b + 1) * d))
  }
  return out
}
