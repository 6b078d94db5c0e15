/**
 * GRPO policy loss: token-level importance ratio, clipped surrogate, optional k3 KL to a reference,
 * aggregated by `lossType`. Source: TRL GRPOTrainer._compute_loss (trl/trainer/grpo_trainer.py
 * ~L2991-3170) and GRPOConfig defaults (grpo_config.py); verl core_algos.compute_policy_loss_vanilla
 * for the dual clip. Formulas (algorithms.md §3b):
 *   rho_t = exp(logp_t - old_t)                 (token level; "sequence": exp(masked mean of log ratio))
 *   l_t   = -min(min(rho, delta) * A, clip(rho, 1 - epsilon, 1 + epsilonHigh) * A) + beta * k3_t
 *   k3_t  = exp(ref_t - logp_t) - (ref_t - logp_t) - 1   (times rho if useBiasCorrectionKl)
 * and with verl's dual clip (clipRatioC = c, off by default): l_t = min(l_t, -A c) where A < 0.
 * Without `oldLogp` the batch is on-policy: old = logp detached, rho = 1 with gradient grad(logp).
 * Options are TRL's names camelCased, with TRL's defaults. Left out: loss types cispo / sapo /
 * vespo / luspo, top_entropy_quantile masking, the vLLM importance-sampling correction.
 * Added: `entropyCoef` (verl's entropy_coeff: loss -= coef * aggregated entropy; TRL's default 0) and
 * per-sample weights (`sampleWeights`, e.g. CPPO's alpha) multiplying each row's aggregation weight.
 */
import { NumericInputError } from "../errors.ts"
import { tf } from "../tf.ts"
import { type AggregationExtras, aggregationWeights, type BatchScope, type GrpoLossType } from "./aggregate.ts"
import {
  detach,
  type Dims,
  dimsOf,
  entropyOf,
  expectFinite,
  expectLength,
  expectPositive,
  expectRange,
  expectResponse,
  mat,
  pick,
  targetMask,
  weightedSum
} from "./common.ts"

/** Data of one GRPO batch; arrays are row-major over [B, R] unless noted. */
export interface GrpoBatch {
  readonly targets: Int32Array // [B*R] response token ids
  readonly responseMask: Float32Array // [B*R] 1 = real response token
  readonly advantages: Float32Array // [B] (see groupAdvantages)
  /** log pi_old of each target [B*R]; absent = on-policy (ratio 1). */
  readonly oldLogp?: Float32Array
  /** log pi_ref of each target [B*R]; required when beta > 0. */
  readonly refLogp?: Float32Array
  /** Per-sample weights [B] on the aggregation (CPPO alpha); default 1. */
  readonly sampleWeights?: Float32Array
  /** this batch is a micro-batch of a larger one, aggregated as part of it (over `responseMask`) */
  readonly scope?: { readonly response: BatchScope }
}

export interface GrpoOptions extends AggregationExtras {
  readonly epsilon?: number // 0.2
  readonly epsilonHigh?: number | null // null = epsilon (DAPO recommends 0.28)
  readonly delta?: number | null // upper cap on rho in the unclipped term; null = off
  readonly beta?: number // k3 KL coefficient; 0 = off
  readonly lossType?: GrpoLossType // "dapo"
  readonly importanceSamplingLevel?: "token" | "sequence" // "token"
  readonly useBiasCorrectionKl?: boolean // false
  readonly clipRatioC?: number | null // verl dual clip (3 there); null = off (TRL)
  readonly entropyCoef?: number // 0
}

export type ResolvedGrpoOptions = Required<{
  readonly [K in keyof GrpoOptions]-?: Exclude<GrpoOptions[K], undefined>
}>

/** TRL GRPOConfig defaults. */
export const grpoDefaults: ResolvedGrpoOptions = {
  epsilon: 0.2,
  epsilonHigh: null,
  delta: null,
  beta: 0,
  lossType: "dapo",
  importanceSamplingLevel: "token",
  useBiasCorrectionKl: false,
  clipRatioC: null,
  entropyCoef: 0,
  maxCompletionLength: null,
  numItemsInBatch: null
}

/** Fills defaults and range-checks every option. */
export const resolveGrpoOptions = (where: string, o: GrpoOptions = {}): ResolvedGrpoOptions => {
  const r: ResolvedGrpoOptions = { ...grpoDefaults, ...o } as ResolvedGrpoOptions
  expectRange(where, "epsilon", r.epsilon, 0, 1)
  if (r.epsilonHigh !== null) expectRange(where, "epsilonHigh", r.epsilonHigh, 0, Infinity)
  // TRL recommends delta > 1 + epsilon; anything below 1 would cap even on-policy ratios
  if (r.delta !== null) expectRange(where, "delta", r.delta, 1, Infinity)
  expectRange(where, "beta", r.beta, 0, Infinity)
  expectRange(where, "entropyCoef", r.entropyCoef, -Infinity, Infinity)
  if (r.clipRatioC !== null) expectRange(where, "clipRatioC", r.clipRatioC, 1, Infinity)
  if (r.importanceSamplingLevel !== "token" && r.importanceSamplingLevel !== "sequence") {
    throw new NumericInputError(where, `importanceSamplingLevel must be "token" or "sequence"`)
  }
  if (r.maxCompletionLength !== null) expectPositive(where, "maxCompletionLength", r.maxCompletionLength)
  if (r.numItemsInBatch !== null) expectPositive(where, "numItemsInBatch", r.numItemsInBatch)
  return r
}

/** Checks the batch against the logits' dims. */
export const validateGrpoBatch = (where: string, batch: GrpoBatch, d: Dims, o: ResolvedGrpoOptions): void => {
  const n = d.B * d.R
  expectResponse(where, d, batch.targets, batch.responseMask)
  expectLength(where, "advantages", batch.advantages, d.B)
  expectFinite(where, "advantages", batch.advantages)
  if (batch.oldLogp !== undefined) {
    expectLength(where, "oldLogp", batch.oldLogp, n)
    expectFinite(where, "oldLogp", batch.oldLogp)
  }
  if (o.beta > 0 && batch.refLogp === undefined) throw new NumericInputError(where, "beta > 0 needs refLogp")
  if (batch.refLogp !== undefined) {
    expectLength(where, "refLogp", batch.refLogp, n)
    expectFinite(where, "refLogp", batch.refLogp)
  }
  if (batch.sampleWeights !== undefined) {
    expectLength(where, "sampleWeights", batch.sampleWeights, d.B)
    expectFinite(where, "sampleWeights", batch.sampleWeights)
  }
}

/** Log importance ratio [B, R] on the tape: token level, or each row's masked mean (sequence level). */
const logRatioOf = (picked: tf.Tensor2D, batch: GrpoBatch, d: Dims, o: ResolvedGrpoOptions): tf.Tensor2D => {
  const old = batch.oldLogp === undefined ? detach(picked) : mat(batch.oldLogp, d)
  const lr = picked.sub(old) as tf.Tensor2D // [B, R]
  if (o.importanceSamplingLevel === "token") return lr
  // mean_t(m * lr) / max(n_b, 1), with the counts as host constants, broadcast back over R
  const inv = new Float32Array(d.B * d.R)
  for (let b = 0; b < d.B; b++) {
    let n = 0
    for (let r = 0; r < d.R; r++) n += batch.responseMask[b * d.R + r]!
    for (let r = 0; r < d.R; r++) inv[b * d.R + r] = batch.responseMask[b * d.R + r]! / Math.max(n, 1)
  }
  return lr.mul(mat(inv, d)).sum(-1, true).tile([1, d.R]) as tf.Tensor2D
}

/** The per-token GRPO loss [B, R] (before aggregation), from the student's log-probs of the targets. */
export const grpoPerToken = (
  picked: tf.Tensor2D,
  batch: GrpoBatch,
  d: Dims,
  o: ResolvedGrpoOptions
): tf.Tensor2D => {
  const A = tf.tensor2d(batch.advantages, [d.B, 1]) // [B, 1]
  const ratio = logRatioOf(picked, batch, d, o).exp() // [B, R]
  const epsHigh = o.epsilonHigh ?? o.epsilon
  const clipped = tf.clipByValue(ratio, 1 - o.epsilon, 1 + epsHigh)
  const capped = o.delta === null ? ratio : tf.minimum(ratio, o.delta)
  let loss = tf.minimum(capped.mul(A), clipped.mul(A)).neg() as tf.Tensor2D
  if (o.clipRatioC !== null) {
    const negA = new Uint8Array(d.B * d.R).map((_, i) => (batch.advantages[Math.floor(i / d.R)]! < 0 ? 1 : 0))
    const cond = tf.tensor2d(negA, [d.B, d.R], "bool")
    loss = tf.where(cond, tf.minimum(loss, A.mul(-o.clipRatioC)), loss) as tf.Tensor2D
  }
  if (o.beta > 0) {
    const diff = mat(batch.refLogp!, d).sub(picked) // ref - logp
    let kl = diff.exp().sub(diff).sub(1)
    if (o.useBiasCorrectionKl) kl = kl.mul(ratio)
    loss = loss.add(kl.mul(o.beta))
  }
  return loss
}

/**
 * The GRPO loss to minimise, attached to `logits` [B, R, V].
 * @category GRPO
 */
export const grpoLoss = (logits: tf.Tensor3D, batch: GrpoBatch, options: GrpoOptions = {}): tf.Scalar => {
  const where = "grpoLoss"
  const d = dimsOf(where, logits)
  const o = resolveGrpoOptions(where, options)
  validateGrpoBatch(where, batch, d, o)
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits, -1) as tf.Tensor3D // [B, R, V]
    const picked = pick(logp, targetMask(batch.targets, d)) // [B, R]
    const perToken = grpoPerToken(picked, batch, d, o)
    const W = aggregationWeights(where, o.lossType, batch.responseMask, d, o, batch.sampleWeights, batch.scope?.response)
    let loss = weightedSum(perToken, W, d)
    if (o.entropyCoef !== 0) {
      const We = aggregationWeights(where, o.lossType, batch.responseMask, d, o, undefined, batch.scope?.response)
      loss = loss.sub(weightedSum(entropyOf(logp), We, d).mul(o.entropyCoef))
    }
    return loss
  })
}
