/**
 * SDPO self-distillation loss: the student's own rollout, scored against a stop-gradient teacher
 * (the same network reprompted with a solution / feedback / memory), per response token.
 *
 * Sources: LAS (lasgroup/SDPO) core_algos.compute_self_distillation_loss and actor.yaml defaults;
 * TRL trl/experimental/sdpo (loss_utils.py, sdpo_trainer.compute_loss, sdpo_config.py). algorithms.md §2.
 * Per token t of row b (s = student log-probs, tau = teacher log-probs, data):
 *   full logits (fullLogitDistillation, distillationTopk = null): D_t = div_alpha(s_t, tau_t) over V
 *   top-k (distillationTopk = k): the same over the student's top-k (+ tail bucket, or renormalised)
 *   sampled token (fullLogitDistillation = false, alpha must be 1): l_t = stopgrad(s(y) - tau(y)) s(y),
 *     whose gradient is -A_t grad log pi(y) with A_t = tau(y) - s(y)
 *   optional cap D_t <- min(D_t, distillationKlClip) (TRL)
 *   IS correction (isClip): l_t = D_t * stopgrad(min(exp(clamp(s(y) - old(y), -20, 20)), isClip))
 *   mask: responseMask[b, t] * teacherMask[b]; rows without teacher context contribute nothing;
 *   "token-mean" (LAS) over the mask, or "seq-mean" (TRL); an all-masked batch gives 0, still
 *   attached to the graph (zero gradient).
 * Knobs of ARCHITECTURE.md §9.2, first-class here:
 *   teacherTemperature tau_T: the teacher's log-probs are re-softmaxed at tau_T (log softmax(tau / tau_T)):
 *     > 1 softens a copy-ready, near one-hot teacher; 1 leaves it (up to renormalisation).
 *   entropyCoef c: loss -= c * (token mean of the student's entropy over all response tokens).
 *   distillationWeight w (TRL): loss = (1 - w) * GRPO loss + w * distillation loss (blends losses,
 *     not advantages); w = 1 is pure SDPO and needs no advantages.
 * Defaults are LAS's (the code PMD ran): alpha 0.5, top-k 100 with a tail bucket, is_clip 2,
 * token-mean. TRL's differ (sampled token, alpha 1, no top-k): pass them explicitly.
 * `teacherLogp` may also hold teacher logits: they are re-normalised. -Infinity entries are allowed
 * (floored at -1e9 so that 0 * log 0 terms stay 0).
 */
import { NumericInputError } from "../errors.ts"
import { tf } from "../tf.ts"
import { aggregationWeights, type BatchScope, type SdpoLossAggMode } from "./aggregate.ts"
import {
  type Dims,
  detach,
  dimsOf,
  entropyOf,
  expectBinary,
  expectLength,
  expectPositive,
  expectRange,
  expectFinite,
  hostF32,
  mat,
  pick,
  targetMask,
  weightedSum
} from "./common.ts"
import { divergence, supportDivergence, supportMask, topkIndices } from "./divergence.ts"
import { type GrpoBatch, type GrpoOptions, grpoPerToken, resolveGrpoOptions, validateGrpoBatch } from "./grpo.ts"

/** Data of one SDPO batch; arrays are row-major over [B, R] unless noted. */
export interface SdpoBatch {
  readonly targets: Int32Array // [B*R] the student's sampled response tokens
  readonly responseMask: Float32Array // [B*R]
  readonly teacherLogp: Float32Array // [B*R*V] teacher log-probs (or logits) on the same response
  readonly teacherMask: Float32Array // [B] 1 = the row's teacher had extra context (self_distillation_mask)
  /** log pi_old of each target [B*R], for the IS ratio and the GRPO part; absent = on-policy. */
  readonly oldLogp?: Float32Array
  /** [B]; required when distillationWeight < 1 (the GRPO part). */
  readonly advantages?: Float32Array
  /** [B*R]; for the GRPO part's KL when grpo.beta > 0. */
  readonly refLogp?: Float32Array
  /** Per-sample weights [B] on both parts (CPPO alpha); default 1. */
  readonly sampleWeights?: Float32Array
  /** this batch is a micro-batch of a larger one, aggregated as part of it (over each part's mask) */
  readonly scope?: { readonly response: BatchScope; readonly distill: BatchScope }
}

export interface SdpoOptions {
  readonly alpha?: number // 0.5 (LAS); 0 forward KL, 1 reverse KL
  readonly fullLogitDistillation?: boolean // true; false = sampled-token variant (alpha 1)
  readonly distillationTopk?: number | null // 100; null = full vocabulary
  readonly distillationAddTail?: boolean // true; false = renormalise the top-k
  readonly isClip?: number | null // 2; null = no IS correction
  readonly distillationKlClip?: number | null // null (TRL); caps the per-token divergence
  readonly teacherTemperature?: number // 1
  readonly entropyCoef?: number // 0
  readonly distillationWeight?: number // 1 (pure SDPO)
  readonly lossAggMode?: SdpoLossAggMode // "token-mean"
  readonly grpo?: GrpoOptions // options of the GRPO part when distillationWeight < 1
}

export type ResolvedSdpoOptions = { readonly [K in keyof SdpoOptions]-?: Exclude<SdpoOptions[K], undefined> }

export const sdpoDefaults: ResolvedSdpoOptions = {
  alpha: 0.5,
  fullLogitDistillation: true,
  distillationTopk: 100,
  distillationAddTail: true,
  isClip: 2,
  distillationKlClip: null,
  teacherTemperature: 1,
  entropyCoef: 0,
  distillationWeight: 1,
  lossAggMode: "token-mean",
  grpo: {}
}

export const resolveSdpoOptions = (where: string, o: SdpoOptions = {}): ResolvedSdpoOptions => {
  const r = { ...sdpoDefaults, ...o } as ResolvedSdpoOptions
  expectRange(where, "alpha", r.alpha, 0, 1)
  if (!r.fullLogitDistillation && r.alpha !== 1) {
    throw new NumericInputError(where, `the sampled-token variant (fullLogitDistillation false) needs alpha = 1, got ${r.alpha}`)
  }
  if (r.distillationTopk !== null && !(Number.isInteger(r.distillationTopk) && r.distillationTopk >= 1)) {
    throw new NumericInputError(where, `distillationTopk must be a positive integer or null, got ${r.distillationTopk}`)
  }
  if (r.isClip !== null) expectPositive(where, "isClip", r.isClip)
  if (r.distillationKlClip !== null) expectPositive(where, "distillationKlClip", r.distillationKlClip)
  expectPositive(where, "teacherTemperature", r.teacherTemperature)
  expectRange(where, "entropyCoef", r.entropyCoef, -Infinity, Infinity)
  expectRange(where, "distillationWeight", r.distillationWeight, 0, 1)
  if (r.lossAggMode !== "token-mean" && r.lossAggMode !== "seq-mean") {
    throw new NumericInputError(where, `lossAggMode must be "token-mean" or "seq-mean", got ${String(r.lossAggMode)}`)
  }
  return r
}

export const validateSdpoBatch = (where: string, batch: SdpoBatch, d: Dims, o: ResolvedSdpoOptions): void => {
  const n = d.B * d.R
  expectLength(where, "teacherLogp", batch.teacherLogp, n * d.V)
  for (let i = 0; i < batch.teacherLogp.length; i++) {
    const x = batch.teacherLogp[i]!
    if (Number.isNaN(x) || x === Infinity) throw new NumericInputError(where, `teacherLogp[${i}] must be finite or -Infinity, got ${x}`)
  }
  expectLength(where, "teacherMask", batch.teacherMask, d.B)
  expectBinary(where, "teacherMask", batch.teacherMask)
  if (o.distillationWeight < 1 && batch.advantages === undefined) {
    throw new NumericInputError(where, "distillationWeight < 1 blends in GRPO and needs advantages")
  }
  // the remaining fields have GRPO's shapes; advantages are checked only when the GRPO part runs
  const advantages = batch.advantages ?? new Float32Array(d.B)
  validateGrpoBatch(where, { ...batch, advantages }, d, resolveGrpoOptions(where, o.distillationWeight < 1 ? o.grpo : {}))
  if (batch.advantages !== undefined) expectFinite(where, "advantages", batch.advantages)
}

/** The tensors every SDPO computation starts from. */
export interface SdpoTerms {
  readonly logp: tf.Tensor3D // [B, R, V] student log-probs
  readonly picked: tf.Tensor2D // [B, R] student log-prob of each sampled token
  readonly teacherLogp: tf.Tensor3D // [B, R, V] teacher log-probs after temperature (constant)
  readonly teacherPicked: tf.Tensor2D // [B, R]
  readonly perTokenDiv: tf.Tensor2D // [B, R] divergence (or sampled-token surrogate), before IS
  readonly topkMass: tf.Tensor2D | null // [B, R] student mass on the top-k support
}

export const sdpoTerms = (logits: tf.Tensor3D, batch: SdpoBatch, d: Dims, o: ResolvedSdpoOptions): SdpoTerms => {
  const logp = tf.logSoftmax(logits, -1) as tf.Tensor3D
  const tmask = targetMask(batch.targets, d)
  const picked = pick(logp, tmask)
  const raw = tf.tensor3d(batch.teacherLogp, [d.B, d.R, d.V])
  const teacherLogp = tf.maximum(tf.logSoftmax(raw.div(o.teacherTemperature), -1), -1e9) as tf.Tensor3D
  const teacherPicked = pick(teacherLogp, tmask)
  if (!o.fullLogitDistillation) {
    const adv = detach(picked.sub(teacherPicked)) // s(y) - tau(y), a constant
    return { logp, picked, teacherLogp, teacherPicked, perTokenDiv: adv.mul(picked) as tf.Tensor2D, topkMass: null }
  }
  let perTokenDiv: tf.Tensor
  let topkMass: tf.Tensor2D | null = null
  const k = o.distillationTopk
  if (k === null || k >= d.V) {
    perTokenDiv = divergence(logp, teacherLogp, o.alpha)
  } else {
    const support = supportMask(topkIndices(hostF32(logits), d, k), d, k) // [B, R, V] multi-hot
    topkMass = logp.exp().mul(support).sum(-1) as tf.Tensor2D
    perTokenDiv = supportDivergence(logp, teacherLogp, support, o.alpha, o.distillationAddTail)
  }
  if (o.distillationKlClip !== null) perTokenDiv = tf.minimum(perTokenDiv, o.distillationKlClip)
  return { logp, picked, teacherLogp, teacherPicked, perTokenDiv: perTokenDiv as tf.Tensor2D, topkMass }
}

/** The detached IS weights [B*R]: min(exp(clamp(s - old, -20, 20)), isClip); 1 without old log-probs. */
export const isWeights = (picked: Float32Array, batch: SdpoBatch, o: ResolvedSdpoOptions): { raw: Float32Array; clipped: Float32Array } => {
  const raw = new Float32Array(picked.length).fill(1)
  if (o.isClip === null || batch.oldLogp === undefined) return { raw, clipped: raw }
  for (let i = 0; i < picked.length; i++) raw[i] = Math.exp(Math.min(20, Math.max(-20, picked[i]! - batch.oldLogp[i]!)))
  return { raw, clipped: raw.map((x) => Math.min(x, o.isClip!)) }
}

/** responseMask[b, t] * teacherMask[b], [B*R]. */
export const distillMask = (batch: SdpoBatch, d: Dims): Float32Array =>
  batch.responseMask.map((m, i) => m * batch.teacherMask[Math.floor(i / d.R)]!)

/**
 * The SDPO loss to minimise (optionally blended with GRPO), attached to `logits` [B, R, V].
 * @category SDPO
 */
export const sdpoLoss = (logits: tf.Tensor3D, batch: SdpoBatch, options: SdpoOptions = {}): tf.Scalar => {
  const where = "sdpoLoss"
  const d = dimsOf(where, logits)
  const o = resolveSdpoOptions(where, options)
  validateSdpoBatch(where, batch, d, o)
  return tf.tidy(() => {
    const terms = sdpoTerms(logits, batch, d, o)
    const { clipped } = isWeights(hostF32(terms.picked), batch, o)
    const perToken = terms.perTokenDiv.mul(mat(clipped, d)) as tf.Tensor2D
    const W = aggregationWeights(where, o.lossAggMode, distillMask(batch, d), d, {}, batch.sampleWeights, batch.scope?.distill)
    let loss = weightedSum(perToken, W, d)
    if (o.distillationWeight < 1) {
      const g = resolveGrpoOptions(where, o.grpo)
      const grpoBatch: GrpoBatch = { ...batch, advantages: batch.advantages! }
      const Wg = aggregationWeights(where, g.lossType, batch.responseMask, d, g, batch.sampleWeights, batch.scope?.response)
      const policy = weightedSum(grpoPerToken(terms.picked, grpoBatch, d, g), Wg, d)
      loss = policy.mul(1 - o.distillationWeight).add(loss.mul(o.distillationWeight))
    }
    if (o.entropyCoef !== 0) {
      const We = aggregationWeights(where, o.lossAggMode, batch.responseMask, d, {}, undefined, batch.scope?.response)
      loss = loss.sub(weightedSum(entropyOf(terms.logp), We, d).mul(o.entropyCoef))
    }
    return loss
  })
}
