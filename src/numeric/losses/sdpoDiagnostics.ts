/**
 * Plain-number diagnostics of an SDPO batch: what the loss saw, for per-step metrics (ARCHITECTURE.md
 * §9.2 asks for per-step entropy, and for the fraction of samples that got a teacher).
 * Token means are over the distillation mask (response tokens of rows with a teacher) unless noted.
 * Mirrors LAS's `self_distillation/*` metrics and TRL's SDPO diagnostics, with a few additions.
 */
import { tf } from "../tf.ts"
import { dimsOf, entropyOf, hostF32, hostTidy, maskedMeanHost } from "./common.ts"
import { type GrpoDiagnostics, grpoDiagnostics } from "./grpoDiagnostics.ts"
import { distillMask, isWeights, resolveSdpoOptions, type SdpoBatch, type SdpoOptions, sdpoTerms, validateSdpoBatch } from "./sdpo.ts"

export interface SdpoDiagnostics {
  /** Fraction of rows whose teacher had extra context (teacherMask = 1). */
  readonly teacherFraction: number
  /** No token carries a distillation target (LAS's `empty_target_batch`): the loss is 0. */
  readonly emptyTargetBatch: boolean
  readonly activeTokens: number
  /** Mean per-token divergence before IS weighting (sampled-token variant: mean of s(y) - tau(y), the one-sample reverse-KL estimate). */
  readonly meanDivergence: number
  /** Mean of tau(y) - s(y), SDPO's per-token advantage on the sampled token. */
  readonly meanTokenAdvantage: number
  readonly meanIsRatio: number // before clipping
  readonly isClipFraction: number // fraction of tokens whose ratio exceeded isClip
  /** The student's mean entropy over all response tokens (not only the distilled ones). */
  readonly studentEntropy: number
  /** The teacher's mean entropy (after temperature) over the distilled tokens: its sharpness. */
  readonly teacherEntropy: number
  /** Mean student probability mass on its top-k support; NaN without top-k. */
  readonly topkStudentMass: number
  /** The GRPO part's diagnostics when distillationWeight < 1, else null. */
  readonly grpo: GrpoDiagnostics | null
}

/** @category SDPO */
export const sdpoDiagnostics = (logits: tf.Tensor3D, batch: SdpoBatch, options: SdpoOptions = {}): SdpoDiagnostics => {
  const where = "sdpoDiagnostics"
  const d = dimsOf(where, logits)
  const o = resolveSdpoOptions(where, options)
  validateSdpoBatch(where, batch, d, o)
  const h = hostTidy(() => {
    const t = sdpoTerms(logits, batch, d, o)
    return {
      picked: hostF32(t.picked),
      teacherPicked: hostF32(t.teacherPicked),
      div: hostF32(t.perTokenDiv),
      studentEnt: hostF32(entropyOf(t.logp)),
      teacherEnt: hostF32(entropyOf(t.teacherLogp)),
      topkMass: t.topkMass === null ? null : hostF32(t.topkMass)
    }
  })
  const mask = distillMask(batch, d)
  const { raw } = isWeights(h.picked, batch, o)
  const active = mask.reduce((a, b) => a + b, 0)
  const clipHit = o.isClip === null ? new Float32Array(raw.length) : raw.map((x) => (x > o.isClip! ? 1 : 0))
  return {
    teacherFraction: batch.teacherMask.reduce((a, b) => a + b, 0) / d.B,
    emptyTargetBatch: active === 0,
    activeTokens: active,
    meanDivergence: o.fullLogitDistillation
      ? maskedMeanHost(h.div, mask)
      : maskedMeanHost(
          h.picked.map((p, i) => p - h.teacherPicked[i]!),
          mask
        ),
    meanTokenAdvantage: maskedMeanHost(
      h.teacherPicked.map((t, i) => t - h.picked[i]!),
      mask
    ),
    meanIsRatio: maskedMeanHost(raw, mask),
    isClipFraction: maskedMeanHost(clipHit, mask),
    studentEntropy: maskedMeanHost(h.studentEnt, batch.responseMask),
    teacherEntropy: maskedMeanHost(h.teacherEnt, mask),
    topkStudentMass: h.topkMass === null ? Number.NaN : maskedMeanHost(h.topkMass, mask),
    grpo:
      o.distillationWeight < 1
        ? grpoDiagnostics(logits, { ...batch, advantages: batch.advantages! }, o.grpo)
        : null
  }
}
