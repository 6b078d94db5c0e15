/**
 * CPPO rollout weighting (Zhang et al., ICLR 2024, "CPPO: Continual Learning for RL with Human
 * Feedback"), as an optional modifier of any policy loss in this folder. algorithms.md §4b.
 *
 * 1. Classify each rollout by its reward R and its generation log-probability P = log pi(x) against
 *    batch statistics (mean mu, population std sigma) and a cut-off k:
 *      high-performance  R > mu_R + k s_R  and  P > mu_P + k s_P
 *      overfitting       R < mu_R - k s_R  and  P > mu_P + k s_P
 *      high-variance     R > mu_R + k s_R  and  P < mu_P - k s_P
 *      noisy             R < mu_R - k s_R  and  P < mu_P - k s_P
 *      normal            otherwise
 * 2. Heuristic weights (alpha: policy learning, beta: knowledge retention): high-performance (ub, ub),
 *    high-variance (ub, lb), overfitting (ub, lb), noisy (lb, lb), normal (1, 1).
 * 3. Loss = policyLoss(per-sample weights alpha) + retentionCoef * mean_b beta_b (log pi(x_b) - log pi_ref(x_b))^2,
 *    the L2 log-prob retention term standing in for a KL to the previous task's policy.
 * UNVERIFIED (the paper text and code were not available; see algorithms.md §4b): the exact
 * inequalities, the values of k / ub / lb (our defaults k = 1, ub = 1.5, lb = 0.5 are guesses), the
 * retention term's exact form, and whether sigma is Bessel-corrected (we use the population std).
 * The learnable-weights variant (Lagrangian relaxation) is left out: its objective is unverified.
 * log pi(x) is the masked sum of token log-probs; pass a length-normalised P to `classifyRollouts` if
 * lengths vary a lot (the classification only needs numbers).
 */
import { NumericInputError } from "../errors.ts"
import { tf } from "../tf.ts"
import { dimsOf, expectFinite, expectLength, expectRange, expectResponse, mat, pick, targetMask } from "./common.ts"

export type RolloutType = "high-performance" | "overfitting" | "high-variance" | "noisy" | "normal"

export interface CppoOptions {
  readonly k?: number // 1 (UNVERIFIED)
  readonly ub?: number // 1.5 (UNVERIFIED)
  readonly lb?: number // 0.5 (UNVERIFIED)
  readonly retentionCoef?: number // 1
}

export const cppoDefaults: Required<CppoOptions> = { k: 1, ub: 1.5, lb: 0.5, retentionCoef: 1 }

/** Per-rollout classification and weights, plain data. */
export interface CppoPlan {
  readonly types: ReadonlyArray<RolloutType>
  readonly alpha: Float32Array // [B] policy-learning weights
  readonly beta: Float32Array // [B] retention weights
}

const meanStd = (xs: ArrayLike<number>): { mean: number; std: number } => {
  let s = 0
  for (let i = 0; i < xs.length; i++) s += xs[i]!
  const mean = s / xs.length
  let ss = 0
  for (let i = 0; i < xs.length; i++) ss += (xs[i]! - mean) ** 2
  return { mean, std: Math.sqrt(ss / xs.length) }
}

const resolve = (where: string, o: CppoOptions): Required<CppoOptions> => {
  const r = { ...cppoDefaults, ...o }
  expectRange(where, "k", r.k, 0, Infinity)
  expectRange(where, "lb", r.lb, 0, Infinity)
  expectRange(where, "ub", r.ub, r.lb, Infinity)
  expectRange(where, "retentionCoef", r.retentionCoef, 0, Infinity)
  return r
}

/**
 * Classifies rollouts [B] by reward and sequence log-probability against the batch's mu +- k sigma.
 * @category CPPO
 */
export const classifyRollouts = (rewards: ArrayLike<number>, seqLogp: ArrayLike<number>, k = cppoDefaults.k): Array<RolloutType> => {
  const where = "classifyRollouts"
  expectLength(where, "seqLogp", seqLogp, rewards.length)
  expectFinite(where, "rewards", rewards)
  expectFinite(where, "seqLogp", seqLogp)
  expectRange(where, "k", k, 0, Infinity)
  if (rewards.length === 0) return []
  const R = meanStd(rewards)
  const P = meanStd(seqLogp)
  return Array.from({ length: rewards.length }, (_, i) => {
    const hiR = rewards[i]! > R.mean + k * R.std
    const loR = rewards[i]! < R.mean - k * R.std
    const hiP = seqLogp[i]! > P.mean + k * P.std
    const loP = seqLogp[i]! < P.mean - k * P.std
    if (hiR && hiP) return "high-performance"
    if (loR && hiP) return "overfitting"
    if (hiR && loP) return "high-variance"
    if (loR && loP) return "noisy"
    return "normal"
  })
}

/** The heuristic (alpha, beta) of each rollout type. */
export const cppoTypeWeights = (t: RolloutType, ub: number, lb: number): readonly [number, number] => {
  switch (t) {
    case "high-performance":
      return [ub, ub]
    case "high-variance":
    case "overfitting":
      return [ub, lb]
    case "noisy":
      return [lb, lb]
    case "normal":
      return [1, 1]
  }
}

/**
 * Classification plus heuristic weights for a batch.
 * @category CPPO
 */
export const cppoPlan = (rewards: ArrayLike<number>, seqLogp: ArrayLike<number>, options: CppoOptions = {}): CppoPlan => {
  const o = resolve("cppoPlan", options)
  const types = classifyRollouts(rewards, seqLogp, o.k)
  const alpha = new Float32Array(types.length)
  const beta = new Float32Array(types.length)
  types.forEach((t, i) => {
    ;[alpha[i], beta[i]] = cppoTypeWeights(t, o.ub, o.lb)
  })
  return { types, alpha, beta }
}

/** Masked sum of token log-probs per row, host data: log pi(x) [B] from per-token log-probs [B*R]. */
export const sequenceLogp = (tokenLogp: ArrayLike<number>, responseMask: ArrayLike<number>, B: number): Float32Array => {
  expectLength("sequenceLogp", "responseMask", responseMask, tokenLogp.length)
  if (B < 1 || tokenLogp.length % B !== 0) throw new NumericInputError("sequenceLogp", `length ${tokenLogp.length} is not B x R for B = ${B}`)
  const R = tokenLogp.length / B
  const out = new Float32Array(B)
  for (let b = 0; b < B; b++) for (let r = 0; r < R; r++) out[b]! += tokenLogp[b * R + r]! * responseMask[b * R + r]!
  return out
}

export interface RetentionBatch {
  readonly targets: Int32Array // [B*R]
  readonly responseMask: Float32Array // [B*R]
  readonly refSeqLogp: Float32Array // [B] log pi_ref(x) of the frozen previous policy
  readonly beta: Float32Array // [B] retention weights
}

/**
 * mean_b beta_b (log pi(x_b) - log pi_ref(x_b))^2, attached to `logits` [B, R, V].
 * @category CPPO
 */
export const retentionLoss = (logits: tf.Tensor3D, batch: RetentionBatch): tf.Scalar => {
  const where = "retentionLoss"
  const d = dimsOf(where, logits)
  expectResponse(where, d, batch.targets, batch.responseMask)
  expectLength(where, "refSeqLogp", batch.refSeqLogp, d.B)
  expectFinite(where, "refSeqLogp", batch.refSeqLogp)
  expectLength(where, "beta", batch.beta, d.B)
  expectFinite(where, "beta", batch.beta)
  return tf.tidy(() => {
    const picked = pick(tf.logSoftmax(logits, -1) as tf.Tensor3D, targetMask(batch.targets, d)) // [B, R]
    const seq = picked.mul(mat(batch.responseMask, d)).sum(-1) // [B]
    const gap = seq.sub(tf.tensor1d(batch.refSeqLogp))
    return gap.square().mul(tf.tensor1d(batch.beta)).mean() as tf.Scalar
  })
}

/**
 * CPPO: the policy loss with per-sample weights alpha, plus the beta-weighted retention term.
 * `policyLoss` receives the plan's alpha as sample weights (e.g. `(w) => grpoLoss(logits, {...batch, sampleWeights: w})`).
 * @category CPPO
 */
export const cppoLoss = (
  logits: tf.Tensor3D,
  plan: CppoPlan,
  retention: Omit<RetentionBatch, "beta">,
  policyLoss: (sampleWeights: Float32Array) => tf.Scalar,
  options: CppoOptions = {}
): tf.Scalar => {
  const o = resolve("cppoLoss", options)
  return tf.tidy(() => {
    const policy = policyLoss(plan.alpha)
    if (o.retentionCoef === 0) return policy
    return policy.add(retentionLoss(logits, { ...retention, beta: plan.beta }).mul(o.retentionCoef)) as tf.Scalar
  })
}
