/**
 * Knobs of the code domain, their defaults and their validation. The defaults follow the second
 * prototype of ARCHITECTURE.md §9 (20 clusters, many problems per cluster, short lists of digits,
 * prompts of ~40-50 tokens, programs of 3-7 tokens).
 */
import { DomainConfigError, requireRange } from "../Domain.ts"
import { CUE_BUCKETS } from "../vocab.ts"
import { DEFAULT_LIMITS, type Limits } from "./interp.ts"

export interface CodeConfig {
  /** Latent clusters; each owns a distinct 2-op skill. */
  readonly clusters: number
  readonly trainPerCluster: number
  readonly heldoutPerCluster: number
  /** Hidden unit tests per problem (even): the train protocol uses the first half, eval all. */
  readonly testsPerProblem: number
  /** Input/output examples shown in each prompt, re-drawn on every visit. */
  readonly examplesPerPrompt: number
  readonly inputLenMin: number
  readonly inputLenMax: number
  /**
   * Relative weights of difficulty tiers 0..3:
   * 0 skill + one readable op (push k / take k); 1 skill + add k; 2 skill + two tail ops;
   * 3 an extra op before the skill + a tier-0/1 tail (successes are rare).
   */
  readonly difficultyWeights: readonly [number, number, number, number]
  /** Probability that the prompt's cue bucket is the cluster's own (else a uniformly drawn other bucket). */
  readonly cueAccuracy: number
  /** Cue buckets in use (<= 24); a cluster's bucket is a hash of its skill, so clusters may share one. */
  readonly cueBuckets: number
  /** "sparse": reward 1 only if every test passes (default); "partial": fraction of tests passed. */
  readonly reward: "sparse" | "partial"
  readonly limits: Limits
  /** Longest program (tokens before [EOS]) the verifier accepts, and the policy's sampling budget. */
  readonly programTokensMax: number
  /** Longest `got` list quoted in feedback (longer outputs are cut, so memory blocks stay short). */
  readonly feedbackGotMax: number
}

export const defaultCodeConfig: CodeConfig = {
  clusters: 20,
  trainPerCluster: 24,
  heldoutPerCluster: 8,
  testsPerProblem: 8,
  examplesPerPrompt: 3,
  inputLenMin: 4,
  inputLenMax: 6,
  difficultyWeights: [0.35, 0.3, 0.2, 0.15],
  cueAccuracy: 0.8,
  cueBuckets: CUE_BUCKETS,
  reward: "sparse",
  limits: DEFAULT_LIMITS,
  programTokensMax: 12,
  feedbackGotMax: 8
}

/** Defaults overridden by `partial`, validated; throws DomainConfigError naming the bad knob. */
export const codeConfig = (partial: Partial<CodeConfig> = {}): CodeConfig => {
  const c: CodeConfig = { ...defaultCodeConfig, ...partial }
  requireRange("clusters", c.clusters, 1, 60)
  requireRange("trainPerCluster", c.trainPerCluster, 1, 200)
  requireRange("heldoutPerCluster", c.heldoutPerCluster, 0, 200)
  requireRange("testsPerProblem", c.testsPerProblem, 2, 32)
  if (c.testsPerProblem % 2 !== 0) throw new DomainConfigError("config.testsPerProblem must be even")
  requireRange("examplesPerPrompt", c.examplesPerPrompt, 1, 6)
  requireRange("inputLenMin", c.inputLenMin, 4, 8)
  requireRange("inputLenMax", c.inputLenMax, c.inputLenMin, 8)
  if (c.difficultyWeights.length !== 4 || c.difficultyWeights.some((w) => !(w >= 0)) ||
    !(c.difficultyWeights.reduce((a, b) => a + b, 0) > 0)) {
    throw new DomainConfigError("config.difficultyWeights must be 4 non-negative weights with a positive sum")
  }
  requireRange("cueAccuracy", c.cueAccuracy, 0, 1, false)
  requireRange("cueBuckets", c.cueBuckets, 2, CUE_BUCKETS)
  if (c.reward !== "sparse" && c.reward !== "partial") throw new DomainConfigError("config.reward must be sparse|partial")
  // Worst-case work of one check (verifyCode), which these ranges keep bounded: at most testsPerProblem
  // runs, each of at most limits.fuel steps (interp.ts: every step costs >= 1 fuel, `rep` iterations
  // included) on lists of at most 2 * sizeMax + 1 elements, where an op costs 1 + its input length, so
  // one check touches O(testsPerProblem * fuel * log sizeMax) elements: <= 32 * 1e6 fuel units at the
  // extremes (measured: about 1 s per check for the worst programs found by hand, e.g. 9 x `dup` then
  // `rep 9` x10 `sort`), 8 * 400 at the defaults. Parsing and the interpreter's recursion are bounded by programTokensMax (nesting <= 32).
  // Bounds must be finite numbers: requireRange rejects NaN and Infinity, so no check can be unbounded.
  if (typeof c.limits !== "object" || c.limits === null) {
    throw new DomainConfigError("config.limits must be an object { fuel, sizeMax }")
  }
  requireRange("limits.fuel", c.limits.fuel, 16, 1_000_000)
  requireRange("limits.sizeMax", c.limits.sizeMax, 16, 4096)
  requireRange("programTokensMax", c.programTokensMax, 8, 64)
  requireRange("feedbackGotMax", c.feedbackGotMax, 1, 64)
  return c
}
