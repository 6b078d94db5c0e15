/**
 * Knobs of the science domain, their defaults and their validation.
 */
import { DomainConfigError, requireRange } from "../Domain.ts"
import { CUE_BUCKETS, FEATURES } from "../vocab.ts"

export interface ScienceConfig {
  /** Latent rule families, spread round-robin over the four subdomains. */
  readonly families: number
  readonly trainPerFamily: number
  readonly heldoutPerFamily: number
  /** Features an entity shows, at least 2 (the relevant pair); each extra one is a distractor (+1 difficulty). */
  readonly featuresMin: number
  readonly featuresMax: number
  /** Probability that the prompt's cue bucket is the family's own. */
  readonly cueAccuracy: number
  readonly cueBuckets: number
  /** "answer": reward 1 iff the extracted letter is right; "steps": also credits the two working steps. */
  readonly reward: "answer" | "steps"
  /** Longest response (tokens before [EOS]) the verifier reads. */
  readonly responseTokensMax: number
}

export const defaultScienceConfig: ScienceConfig = {
  families: 16,
  trainPerFamily: 24,
  heldoutPerFamily: 8,
  featuresMin: 2,
  featuresMax: 5,
  cueAccuracy: 0.8,
  cueBuckets: CUE_BUCKETS,
  reward: "answer",
  responseTokensMax: 8
}

/** Defaults overridden by `partial`, validated; throws DomainConfigError naming the bad knob. */
export const scienceConfig = (partial: Partial<ScienceConfig> = {}): ScienceConfig => {
  const c: ScienceConfig = { ...defaultScienceConfig, ...partial }
  requireRange("families", c.families, 1, 64)
  requireRange("trainPerFamily", c.trainPerFamily, 1, 500)
  requireRange("heldoutPerFamily", c.heldoutPerFamily, 0, 500)
  requireRange("featuresMin", c.featuresMin, 2, FEATURES)
  requireRange("featuresMax", c.featuresMax, c.featuresMin, FEATURES)
  requireRange("cueAccuracy", c.cueAccuracy, 0, 1, false)
  requireRange("cueBuckets", c.cueBuckets, 2, CUE_BUCKETS)
  if (c.reward !== "answer" && c.reward !== "steps") throw new DomainConfigError("config.reward must be answer|steps")
  requireRange("responseTokensMax", c.responseTokensMax, 4, 64)
  return c
}
