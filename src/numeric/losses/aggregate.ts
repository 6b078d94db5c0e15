/**
 * Loss aggregation as constant weight matrices: a loss is `sum(perToken * W)` with W [B, R] built
 * here from the masks (plain data), so every normaliser is an exact host number and never a tensor on
 * the tape.
 *
 * Modes and sources:
 * - TRL GRPOTrainer `loss_type` (trl/trainer/grpo_trainer.py, _compute_loss):
 *   - "grpo":    mean over sequences of (sum_t l m / max(sum_t m, 1))          (length-biased)
 *   - "bnpo":    sum l m / max(sum m, 1) over the local batch
 *   - "dr_grpo": sum l m / (B * max_completion_length)
 *   - "dapo":    sum l m / num_items_in_batch (active tokens of the global accumulated batch,
 *                divided by num_processes); locally it defaults to max(sum m, 1), i.e. bnpo.
 * - verl / LAS `loss_agg_mode` for SDPO (core_algos.agg_loss): "token-mean" = sum l m / max(sum m, 1);
 *   TRL SDPO's "seq-mean" = per-sequence token mean, then mean over *all* B sequences (rows with an
 *   empty mask count as 0 and dilute the loss, as TRL does).
 * Per-sample weights (CPPO's alpha, or any caller weighting) multiply row b of W.
 */
import { NumericInputError } from "../errors.ts"
import type { Dims } from "./common.ts"

export type GrpoLossType = "grpo" | "bnpo" | "dr_grpo" | "dapo"
export type SdpoLossAggMode = "token-mean" | "seq-mean"

/** What each aggregation needs beyond the mask. */
export interface AggregationExtras {
  /** dr_grpo's constant length; defaults to R (the padded response length). */
  readonly maxCompletionLength?: number | null
  /** dapo's normaliser; defaults to the local active-token count (at least 1). */
  readonly numItemsInBatch?: number | null
}

/**
 * The whole batch a micro-batch belongs to (gradient accumulation over micro-batches): its rows are
 * weighted as in the whole batch, so the micro-batches' losses add up to the whole batch's loss.
 * `rows`: the whole batch's row count; `activeTokens`: its count of tokens under the mask aggregated.
 */
export interface BatchScope {
  readonly rows: number
  readonly activeTokens: number
}

const rowCounts = (mask: Float32Array, d: Dims): Float64Array => {
  const n = new Float64Array(d.B)
  for (let b = 0; b < d.B; b++) for (let r = 0; r < d.R; r++) n[b]! += mask[b * d.R + r]!
  return n
}

const total = (mask: Float32Array): number => {
  let s = 0
  for (let i = 0; i < mask.length; i++) s += mask[i]!
  return s
}

/**
 * W [B*R] such that loss = sum(perToken * W). `mask` is the effective token mask [B*R] (0/1),
 * `sampleWeights` optional [B].
 */
export const aggregationWeights = (
  where: string,
  mode: GrpoLossType | SdpoLossAggMode,
  mask: Float32Array,
  d: Dims,
  extras: AggregationExtras = {},
  sampleWeights?: Float32Array,
  scope?: BatchScope
): Float32Array => {
  const w = new Float32Array(d.B * d.R)
  const perRow = new Float64Array(d.B) // the normaliser of each row
  const rows = scope?.rows ?? d.B
  const active = () => scope?.activeTokens ?? total(mask)
  switch (mode) {
    case "grpo":
    case "seq-mean": {
      const n = rowCounts(mask, d)
      for (let b = 0; b < d.B; b++) perRow[b] = rows * Math.max(n[b]!, 1)
      break
    }
    case "bnpo":
    case "token-mean":
      perRow.fill(Math.max(active(), 1))
      break
    case "dr_grpo": {
      const L = extras.maxCompletionLength ?? d.R
      if (!(L > 0)) throw new NumericInputError(where, `maxCompletionLength must be positive, got ${L}`)
      perRow.fill(rows * L)
      break
    }
    case "dapo": {
      const N = extras.numItemsInBatch ?? Math.max(active(), 1)
      if (!(N > 0)) throw new NumericInputError(where, `numItemsInBatch must be positive, got ${N}`)
      perRow.fill(N)
      break
    }
    default:
      throw new NumericInputError(where, `unknown loss aggregation ${String(mode)}`)
  }
  for (let b = 0; b < d.B; b++) {
    const sw = sampleWeights === undefined ? 1 : sampleWeights[b]!
    for (let r = 0; r < d.R; r++) w[b * d.R + r] = (mask[b * d.R + r]! * sw) / perRow[b]!
  }
  return w
}
