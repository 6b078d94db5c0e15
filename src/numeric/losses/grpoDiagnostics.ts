/**
 * Plain-number diagnostics of a GRPO batch, as TRL logs them: clip fractions by side, mean ratio,
 * mean k3 KL, entropy; token means over the response mask. Recomputed from the logits in host
 * memory (float64), with the same ratio definitions as grpo.ts.
 */
import { tf } from "../tf.ts"
import { type Dims, dimsOf, entropyOf, hostF32, hostTidy, maskedMeanHost, pick, targetMask } from "./common.ts"
import { type GrpoBatch, type GrpoOptions, resolveGrpoOptions, validateGrpoBatch } from "./grpo.ts"

/** Per-row masked mean of the log ratio, broadcast to [B*R] (GSPO's sequence-level ratio). */
export const sequenceMeanRows = (logRatio: Float32Array, mask: Float32Array, d: Dims): Float32Array => {
  const out = new Float32Array(d.B * d.R)
  for (let b = 0; b < d.B; b++) {
    let s = 0
    let n = 0
    for (let r = 0; r < d.R; r++) {
      s += logRatio[b * d.R + r]! * mask[b * d.R + r]!
      n += mask[b * d.R + r]!
    }
    out.fill(s / Math.max(n, 1), b * d.R, (b + 1) * d.R)
  }
  return out
}

/** Plain-number diagnostics of a GRPO batch (TRL's logged metrics), token means over the response mask. */
export interface GrpoDiagnostics {
  readonly clipRatioLow: number // rho < 1 - epsilon and A < 0
  readonly clipRatioHigh: number // rho > 1 + epsilonHigh and A > 0
  readonly clipRatioRegion: number // either
  readonly meanRatio: number
  readonly meanKl: number // k3 to the reference; NaN without refLogp
  readonly entropy: number // mean per-token entropy of the student
  readonly nonZeroAdvantageFraction: number // fraction of samples with A != 0: the ones that carry signal
  readonly activeTokens: number
}

/** @category GRPO */
export const grpoDiagnostics = (logits: tf.Tensor3D, batch: GrpoBatch, options: GrpoOptions = {}): GrpoDiagnostics => {
  const where = "grpoDiagnostics"
  const d = dimsOf(where, logits)
  const o = resolveGrpoOptions(where, options)
  validateGrpoBatch(where, batch, d, o)
  const [picked, ent] = hostTidy(() => {
    const logp = tf.logSoftmax(logits, -1) as tf.Tensor3D
    return [hostF32(pick(logp, targetMask(batch.targets, d))), hostF32(entropyOf(logp))] as const
  })
  const m = batch.responseMask
  let lr: Float32Array = picked.map((p, i) => (batch.oldLogp === undefined ? 0 : p - batch.oldLogp![i]!))
  if (o.importanceSamplingLevel === "sequence") lr = sequenceMeanRows(lr, m, d)
  const ratio = lr.map(Math.exp)
  const epsHigh = o.epsilonHigh ?? o.epsilon
  const low = ratio.map((x, i) => (x < 1 - o.epsilon && batch.advantages[Math.floor(i / d.R)]! < 0 ? 1 : 0))
  const high = ratio.map((x, i) => (x > 1 + epsHigh && batch.advantages[Math.floor(i / d.R)]! > 0 ? 1 : 0))
  const kl =
    batch.refLogp === undefined
      ? null
      : picked.map((p, i) => {
          const diff = batch.refLogp![i]! - p
          return Math.exp(diff) - diff - 1
        })
  let active = 0
  for (const x of m) active += x
  return {
    clipRatioLow: maskedMeanHost(low, m),
    clipRatioHigh: maskedMeanHost(high, m),
    clipRatioRegion: maskedMeanHost(
      low.map((x, i) => x + high[i]!),
      m
    ),
    meanRatio: maskedMeanHost(ratio, m),
    meanKl: kl === null ? Number.NaN : maskedMeanHost(kl, m),
    entropy: maskedMeanHost(ent, m),
    nonZeroAdvantageFraction: batch.advantages.reduce((s, a) => s + (a !== 0 ? 1 : 0), 0) / d.B,
    activeTokens: active
  }
}
