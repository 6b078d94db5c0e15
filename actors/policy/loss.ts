/**
 * The policy loss of one update, by method: GRPO; SDPO / PMD (the same distillation loss, with
 * different teacher contexts); optionally blended with GRPO and modified by CPPO weighting.
 *
 * Everything numeric comes from src/numeric/losses; this file only chooses and wires (the run's
 * config names are mapped to the reference option names there).
 */
import type { RunConfig } from "../../src/config/RunConfig.ts"
import {
  type ModelConfig,
  type Params,
  forward
} from "../../src/numeric/index.ts"
import {
  cppoLoss,
  cppoPlan,
  grpoLoss,
  type GrpoOptions,
  groupAdvantages,
  nextTokenLoss,
  sdpoLoss,
  type SdpoOptions,
  sequenceLogp
} from "../../src/numeric/losses/index.ts"
import { tf } from "../../src/numeric/tf.ts"
import type { AlignedBatch, MicroContext } from "./batch.ts"

export type LossKind = "grpo" | "distill"

export interface LossInputs {
  readonly batch: AlignedBatch
  /** importance correction against the behaviour policy (async rollouts); false = treat as on-policy */
  readonly importance: boolean
  /** log pi_ref(x) per row, for CPPO's retention term (reference = the base policy) */
  readonly refSeqLogp: Float32Array | null
  /** when `batch` is a micro-batch: its whole batch's advantages (its rows') and aggregation scopes */
  readonly micro?: MicroContext
}

export const grpoOptions = (cfg: RunConfig, T: number): GrpoOptions => ({
  epsilon: cfg.grpo.epsilon,
  epsilonHigh: cfg.grpo.epsilonHigh,
  beta: cfg.grpo.beta,
  lossType: cfg.grpo.lossType,
  maxCompletionLength: T
})

export const sdpoOptions = (cfg: RunConfig, T: number): SdpoOptions => ({
  alpha: cfg.sdpo.variant === "sampled_token" ? 1 : cfg.sdpo.alpha,
  fullLogitDistillation: cfg.sdpo.variant === "logit",
  distillationTopk: cfg.sdpo.distillationTopK === 0 ? null : cfg.sdpo.distillationTopK,
  distillationAddTail: true,
  isClip: cfg.sdpo.isClip,
  teacherTemperature: cfg.sdpo.teacherTemperature,
  entropyCoef: cfg.sdpo.entropyCoef,
  distillationWeight: cfg.sdpo.distillationWeight,
  lossAggMode: "token-mean",
  grpo: grpoOptions(cfg, T)
})

/**
 * Whether this update's loss has a GRPO part whose KL to the reference (the base) is on: then the
 * batch needs the reference's log-probs (`withReferenceLogp`).
 */
export const needsReferenceLogp = (cfg: RunConfig, kind: LossKind): boolean =>
  cfg.grpo.beta > 0 && (kind === "grpo" || cfg.sdpo.distillationWeight < 1)

/** The scalar to minimise; call inside trainStep's gradient scope. */
export const policyLoss = (params: Params, model: ModelConfig, cfg: RunConfig, kind: LossKind, inputs: LossInputs): tf.Scalar => {
  const { batch } = inputs
  const { B, T } = batch
  const logits = forward(params, model, tf.tensor2d(batch.tokens, [B, T], "int32"), { recompute: cfg.optim.recompute === true }) // [B, T, V], aligned to targets
  const advantages = inputs.micro?.advantages ?? groupAdvantages(batch.rewards, batch.groups, { scaleRewards: cfg.grpo.scaleRewards })
  const oldLogp = inputs.importance ? batch.oldLogp : undefined
  const lossWith = (sampleWeights: Float32Array | undefined): tf.Scalar => {
    const common = {
      targets: batch.targets,
      responseMask: batch.responseMask,
      advantages,
      ...(oldLogp === undefined ? {} : { oldLogp }),
      ...(batch.refLogp === undefined ? {} : { refLogp: batch.refLogp }),
      ...(sampleWeights === undefined ? {} : { sampleWeights }),
      ...(inputs.micro === undefined ? {} : { scope: inputs.micro.scope })
    }
    return kind === "grpo"
      ? grpoLoss(logits, common, grpoOptions(cfg, T))
      : sdpoLoss(logits, { ...common, teacherLogp: batch.teacherLogp, teacherMask: batch.teacherMask }, sdpoOptions(cfg, T))
  }
  if (!cfg.cppo.enabled || inputs.refSeqLogp === null) return lossWith(undefined)
  const plan = cppoPlan(batch.rewards, sequenceLogp(batch.oldLogp, batch.responseMask, B), { k: cfg.cppo.k, ub: cfg.cppo.ub, lb: cfg.cppo.lb, retentionCoef: cfg.cppo.retentionBeta })
  return cppoLoss(
    logits,
    plan,
    { targets: batch.targets, responseMask: batch.responseMask, refSeqLogp: inputs.refSeqLogp },
    (w) => lossWith(w),
    { k: cfg.cppo.k, ub: cfg.cppo.ub, lb: cfg.cppo.lb, retentionCoef: cfg.cppo.retentionBeta }
  )
}

/** A rehearsal batch (`memory.rehearsal`) and the weight of its token-mean next-token loss. */
export interface RehearsalBatch {
  readonly batch: AlignedBatch
  readonly weight: number
}

/**
 * The rehearsal term: `weight` x the next-token loss of the rehearsed responses under their
 * memory-conditioned prompts (prompt positions carry mask 0). Added to the policy loss in one pass, or
 * as one more gradient part after the micro-batches.
 */
export const rehearsalLoss = (params: Params, model: ModelConfig, cfg: RunConfig, r: RehearsalBatch): tf.Scalar => {
  const { B, T } = r.batch
  const logits = forward(params, model, tf.tensor2d(r.batch.tokens, [B, T], "int32"), { recompute: cfg.optim.recompute === true })
  return nextTokenLoss(logits, { targets: r.batch.targets, responseMask: r.batch.responseMask }).mul(r.weight) as tf.Scalar
}
