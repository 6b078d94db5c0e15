/**
 * Group-relative advantages for GRPO (plain numbers, no tfjs).
 *
 * Source: TRL GRPOTrainer (trl/trainer/grpo_trainer.py, advantages ~L2672-2738; trainer/utils.py nanstd):
 *   A_i = (r_i - mean_group(r)) / (std(r) + 1e-4), std with Bessel's correction (n - 1).
 *   scale_rewards: "group" (default) = std over the group; "batch" = mean over the group, std over the
 *   whole batch ("PPO-Lite"); "none" = no division (Dr. GRPO; what verl / LAS / the PMD baselines use).
 * A group with all-equal rewards gets A = 0 for every member. A NaN reward (no reward function
 * answered) is left out of the group's mean and std and gets A = 0, as in TRL.
 * Departures: groups are given by explicit ids (any order, any sizes) instead of TRL's contiguous
 * blocks of num_generations. A group (or batch) with a single finite reward has no Bessel std; we use
 * std = 0 there, so its advantage is 0 (torch would give NaN). verl's eps 1e-6 and its "single-sample
 * group: mean 0, std 1" rule are not reproduced; set `stdEpsilon` to 1e-6 for the former.
 */
import { NumericInputError } from "../errors.ts"

export type ScaleRewards = "group" | "batch" | "none"

export interface AdvantageOptions {
  /** TRL `scale_rewards`; default "group". */
  readonly scaleRewards?: ScaleRewards
  /** Added to the std before dividing; TRL hard-codes 1e-4. */
  readonly stdEpsilon?: number
}

interface Moments {
  readonly mean: number
  readonly std: number // Bessel-corrected; 0 for fewer than 2 values
}

const moments = (xs: ReadonlyArray<number>): Moments => {
  const n = xs.length
  if (n === 0) return { mean: 0, std: 0 }
  // all equal: exact mean, so an all-equal group gets exactly zero advantage (a float sum would not)
  if (xs.every((x) => x === xs[0])) return { mean: xs[0]!, std: 0 }
  let s = 0
  for (const x of xs) s += x
  const mean = s / n
  if (n < 2) return { mean, std: 0 }
  let ss = 0
  for (const x of xs) ss += (x - mean) * (x - mean)
  return { mean, std: Math.sqrt(ss / (n - 1)) }
}

/**
 * Advantages [B] from rewards [B] and group ids [B] (samples of one prompt share an id).
 * @category GRPO
 */
export const groupAdvantages = (
  rewards: ArrayLike<number>,
  groupIds: ArrayLike<number>,
  options: AdvantageOptions = {}
): Float32Array => {
  const where = "groupAdvantages"
  const scale = options.scaleRewards ?? "group"
  const eps = options.stdEpsilon ?? 1e-4
  if (rewards.length !== groupIds.length) {
    throw new NumericInputError(where, `rewards (${rewards.length}) and groupIds (${groupIds.length}) differ in length`)
  }
  if (scale !== "group" && scale !== "batch" && scale !== "none") {
    throw new NumericInputError(where, `scaleRewards must be "group", "batch" or "none", got ${String(scale)}`)
  }
  if (!(eps >= 0 && Number.isFinite(eps))) throw new NumericInputError(where, `stdEpsilon must be >= 0, got ${eps}`)
  const groups = new Map<number, Array<number>>()
  for (let i = 0; i < rewards.length; i++) {
    const g = groupIds[i]!
    if (!Number.isInteger(g)) throw new NumericInputError(where, `groupIds[${i}] must be an integer, got ${g}`)
    const r = rewards[i]!
    if (Number.isNaN(r)) continue
    if (!Number.isFinite(r)) throw new NumericInputError(where, `rewards[${i}] must be finite or NaN, got ${r}`)
    const list = groups.get(g) ?? []
    list.push(r)
    groups.set(g, list)
  }
  const stats = new Map<number, Moments>()
  for (const [g, xs] of groups) stats.set(g, moments(xs))
  const batchStd = moments(Array.from(rewards).filter((r) => !Number.isNaN(r))).std
  const out = new Float32Array(rewards.length)
  for (let i = 0; i < rewards.length; i++) {
    const r = rewards[i]!
    if (Number.isNaN(r)) continue
    const m = stats.get(groupIds[i]!)!
    const centred = r - m.mean
    out[i] = scale === "none" ? centred : centred / ((scale === "group" ? m.std : batchStd) + eps)
  }
  return out
}
