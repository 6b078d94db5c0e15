/**
 * Teacher scoring and sequence embeddings: one forward pass over right-padded (context ++ response)
 * rows, read back as plain arrays.
 *
 * `scoreResponses` returns, for response token i of row r, the full log-prob vector over the vocab
 * of the model's prediction at that position (conditioned on the context and response tokens < i).
 * Rows are processed in chunks of `batchSize` to bound memory, shortest rows first so that each chunk
 * pads little (teacher contexts range from a bare prompt to a prompt with its memory); a row's values
 * do not depend on the chunk it is in (same argument as sample.ts), so the order never changes a bit.
 */
import { NumericInputError } from "../errors.ts"
import type { ModelConfig } from "../model/config.ts"
import { forward, hiddenStates } from "../model/forward.ts"
import type { Params } from "../model/params.ts"
import { readTidy } from "../read.ts"
import { tf } from "../tf.ts"
import { alignLength, checkTokens, padRight } from "./rows.ts"

export interface ScoredResponse {
  /** [n, V] row-major: log p(. | context, response[:i]) for each response position i. */
  readonly logProbs: Float32Array
  /** [n]: log p(response[i] | ...), the entries of logProbs at the actual tokens. */
  readonly tokenLogProbs: Float32Array
}

/**
 * Rows per forward pass when scoring. Smaller chunks are faster up to a point (64 teacher rows of ~120
 * tokens at the default size, one thread: 202-282 ms in chunks of 64, 151-164 ms in chunks of 16 or 8,
 * 179 ms in chunks of 4), since a chunk's activations then stay in cache; the values never depend on it.
 */
export const SCORE_BATCH_DEFAULT = 16

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
  const out = new Array<ScoredResponse>(rows.length)
  // chunks of rows of similar length: less padding; each row's values land at its own index
  const order = rows.map((_, i) => i).sort((a, b) => rows[a]!.seq.length - rows[b]!.seq.length || a - b)
  for (const ids of chunks(order, options.batchSize ?? SCORE_BATCH_DEFAULT)) {
    const chunk = ids.map((i) => rows[i]!)
    const B = chunk.length
    const T = alignLength(Math.max(...chunk.map((r) => r.seq.length)), cfg.contextLength)
    // positions ctx-1 .. ctx+n-2 predict the n response tokens
    const idx: Array<number> = []
    chunk.forEach((r, b) => r.resp.forEach((_, i) => idx.push(b * T + r.ctx - 1 + i)))
    const lp =
      idx.length === 0
        ? new Float32Array(0)
        : readTidy(() => {
            const logits = forward(params, cfg, tf.tensor2d(padRight(chunk.map((r) => r.seq), T, options.padToken ?? 0), [B, T], "int32"))
            return tf.logSoftmax(tf.gather(logits.reshape([B * T, V]), tf.tensor1d(Int32Array.from(idx), "int32"))) // [n, V]
          })
    let off = 0
    chunk.forEach((r, j) => {
      const n = r.resp.length
      const logProbs = lp.slice(off * V, (off + n) * V)
      out[ids[j]!] = { logProbs, tokenLogProbs: Float32Array.from(r.resp, (t, i) => logProbs[i * V + t]!) }
      off += n
    })
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

/**
 * The final hidden state (after the final LayerNorm) of each sequence, mean-pooled over its positions
 * (`pool: "mean"`, the default) or at its last position (`pool: "last"`): one Float32Array(dModel) each.
 */
export const embedSequences = (
  params: Params,
  cfg: ModelConfig,
  seqs: ReadonlyArray<ReadonlyArray<number>>,
  options: { readonly batchSize?: number; readonly padToken?: number; readonly pool?: "mean" | "last" } = {}
): Array<Float32Array> => {
  seqs.forEach((s, i) => {
    if (s.length === 0 || s.length > cfg.contextLength) throw new NumericInputError("embedSequences", `row ${i}: length ${s.length} outside [1, ${cfg.contextLength}]`)
    checkTokens("embedSequences", cfg, s)
  })
  const d = cfg.dModel
  const out: Array<Float32Array> = []
  for (const chunk of chunks(seqs, options.batchSize ?? 64)) {
    const B = chunk.length
    const T = alignLength(Math.max(...chunk.map((s) => s.length)), cfg.contextLength)
    const h = readTidy(() => hiddenStates(params, cfg, tf.tensor2d(padRight(chunk, T, options.padToken ?? 0), [B, T], "int32"))) // [B*T, d]
    // Mean over the real positions in float64, in position order: a tfjs Sum over the padded axis
    // groups its terms by SIMD lane, so its bits would depend on the batch's padded length.
    chunk.forEach((s, b) => {
      if (options.pool === "last") {
        const at = (b * T + s.length - 1) * d
        out.push(h.slice(at, at + d))
        return
      }
      const acc = new Float64Array(d)
      for (let t = 0; t < s.length; t++) for (let j = 0; j < d; j++) acc[j]! += h[(b * T + t) * d + j]!
      out.push(Float32Array.from(acc, (x) => x / s.length))
    })
  }
  return out
}
