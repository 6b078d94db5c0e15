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
  /**
   * The skill also spells out the family's property table as `digit property` pairs (`0 p3 1 p5 ...`),
   * so a skill hint carries the whole rule and a foreign family can be solved by reading it alone.
   * Optional and absent from the defaults, so the default domain (its skills and fingerprint) is unchanged.
   */
  readonly skillTable?: boolean
  /**
   * How the four options are shown (absent = "letterFirst", the default `A p4 B p1 C p6 D p0`):
   * - "propertyFirst": `p4 A p1 B p6 C p0 D`, the letter is the token after its property;
   * - "slots": one slot per property in property order, holding its letter or [UNK]
   *   (`[UNK] [UNK] D [UNK] A [UNK] C [UNK]` for the options above), so the letter of property p sits
   *   at a fixed offset p: a positional lookup, which a 2-layer model learns, where finding a property's
   *   letter by content stayed at chance (experiments/warmup/README.md, science base).
   * Optional and absent from the defaults, so the default domain is unchanged.
   */
  readonly optionLayout?: "letterFirst" | "propertyFirst" | "slots"
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
  if (c.optionLayout !== undefined && !["letterFirst", "propertyFirst", "slots"].includes(c.optionLayout)) {
    throw new DomainConfigError("config.optionLayout must be letterFirst|propertyFirst|slots")
  }
  if (c.skillTable !== undefined && typeof c.skillTable !== "boolean") throw new DomainConfigError("config.skillTable must be true or false")
  return c
}
