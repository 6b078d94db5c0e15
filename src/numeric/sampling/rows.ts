/**
 * Shared bookkeeping of the samplers: input checks, right-padded prompt batches, and per-row results.
 */
import type { Rng } from "../../core/Rng.ts"
import { NumericInputError } from "../errors.ts"
import type { ModelConfig } from "../model/config.ts"
import { type Pick, type SamplingParams, validateSampling } from "./pick.ts"

export interface SampleRow {
  readonly prompt: ReadonlyArray<number>
  /** This row's own stream (fork it per step, problem and rollout); it is advanced by sampling. */
  readonly rng: Rng
}

export interface SampleOptions extends SamplingParams {
  readonly maxNewTokens: number
  /** Generation of a row ends after it emits one of these (the stop token is included in `tokens`). */
  readonly stopTokens?: ReadonlyArray<number>
  /** Token fed at padded positions (never attended to by real tokens). Default 0. */
  readonly padToken?: number
  /** Rows sampled together (a memory bound; results do not depend on it). Default sample.ts SAMPLE_BATCH_DEFAULT. */
  readonly batchSize?: number
}

export interface SampleResult {
  /** Generated tokens (prompt excluded), ending with the stop token when `stopped`. */
  readonly tokens: ReadonlyArray<number>
  /** Per generated token: log p under the model at temperature 1. */
  readonly logProbs: Float32Array
  /** Per generated token: log q under the sampling distribution (temperature, top-k, top-p, bans). */
  readonly sampleLogProbs: Float32Array
  readonly stopped: boolean
}

export const checkTokens = (where: string, cfg: ModelConfig, seq: ReadonlyArray<number>): void => {
  for (const t of seq) {
    if (!Number.isInteger(t) || t < 0 || t >= cfg.vocabSize) throw new NumericInputError(where, `token ${t} outside [0, ${cfg.vocabSize})`)
  }
}

export const checkRows = (cfg: ModelConfig, rows: ReadonlyArray<SampleRow>, opts: SampleOptions): void => {
  validateSampling(opts, cfg.vocabSize)
  if (!Number.isInteger(opts.maxNewTokens) || opts.maxNewTokens < 1) throw new NumericInputError("sample", `maxNewTokens must be >= 1, got ${opts.maxNewTokens}`)
  for (const [i, r] of rows.entries()) {
    if (r.prompt.length === 0) throw new NumericInputError("sample", `row ${i}: empty prompt`)
    checkTokens("sample", cfg, r.prompt)
    if (r.prompt.length + opts.maxNewTokens > cfg.contextLength) {
      throw new NumericInputError("sample", `row ${i}: prompt ${r.prompt.length} + maxNewTokens ${opts.maxNewTokens} > contextLength ${cfg.contextLength}`)
    }
  }
}

/**
 * Padded length for a batch whose longest row has n tokens: n rounded up to a multiple of 8 (capped
 * at `cap`). Why: XNNPACK's grouped GEMM (the attention mix over keys) sums a block of 8 keys along
 * one path and a shorter tail along another, so a row's bits would depend on whether its last keys
 * fall in a tail. With every padded length a multiple of 8 there is no tail, the padded keys add
 * exact zeros, and a row's results no longer depend on the batch's longest row (checked for every
 * length up to 40; see test/numeric/sampling.test.ts). Needs contextLength to be a multiple of 8.
 */
export const alignLength = (n: number, cap: number): number => Math.min(Math.ceil(n / 8) * 8, cap)

/** Right-padded [B, T] int32 batch of sequences. */
export const padRight = (seqs: ReadonlyArray<ReadonlyArray<number>>, T: number, pad: number): Int32Array => {
  const out = new Int32Array(seqs.length * T).fill(pad)
  seqs.forEach((s, b) => out.set(s, b * T))
  return out
}

/** Growing per-row output. */
export class RowState {
  readonly tokens: Array<number> = []
  readonly logProbs: Array<number> = []
  readonly sampleLogProbs: Array<number> = []
  stopped = false
  push(p: Pick, stop: ReadonlySet<number>): void {
    this.tokens.push(p.token)
    this.logProbs.push(p.logProb)
    this.sampleLogProbs.push(p.sampleLogProb)
    if (stop.has(p.token)) this.stopped = true
  }
  result(): SampleResult {
    return {
      tokens: this.tokens,
      logProbs: Float32Array.from(this.logProbs),
      sampleLogProbs: Float32Array.from(this.sampleLogProbs),
      stopped: this.stopped
    }
  }
}
