/**
 * Experience memory: per problem, the last good and bad attempts (PMD §3, U_exp).
 *
 * Guarantees (property-tested in test/memory/experience.test.ts):
 * - at most `maxSuccesses` successes and `maxFailures` failures per problem after any update;
 * - a near-duplicate gate: a new response identical to, or whose embedding has cosine >= `dupThreshold`
 *   with, a stored item of the same outcome is rejected (counted, not stored);
 * - when a side is over capacity, the most redundant item (highest max-similarity to the others on
 *   that side; ties: the smallest id) is evicted, possibly the newcomer;
 * - candidates are processed in canonical order (by rollout id), so the result does not depend on the
 *   order rollouts arrived in;
 * - attempt counters (`attempts`, `solved`) are monotone and count every candidate, stored or not:
 *   they give the reflector its confidence signal ("n_success of n_total attempts correct").
 * The paper does not give the gate's threshold; 0.95 is our default.
 */
import { compareStrings } from "../../core/Order.ts"
import type { Embedder } from "../embed/hashEmbed.ts"
import { dot } from "../embed/vec.ts"
import { checkPositiveInt, checkTokens, checkUnit, MemoryInputError, type Provenance } from "../types.ts"

export interface ExperienceItem {
  /** = the rollout id (unique per rollout). */
  readonly id: string
  readonly response: ReadonlyArray<number>
  /** Verifier feedback tokens (empty for successes). */
  readonly feedback: ReadonlyArray<number>
  readonly success: boolean
  readonly prov: Provenance
}

/** One problem's experience. Items on each side are kept sorted by id. */
export interface ProblemExperience {
  readonly problemId: string
  readonly successes: ReadonlyArray<ExperienceItem>
  readonly failures: ReadonlyArray<ExperienceItem>
  /** Every candidate ever offered (monotone). */
  readonly attempts: number
  /** Every successful candidate ever offered (monotone). */
  readonly solved: number
}

export interface ExperienceConfig {
  readonly maxSuccesses: number
  readonly maxFailures: number
  /** Cosine at or above which a new response is a near-duplicate of a stored one. */
  readonly dupThreshold: number
}

export const defaultExperienceConfig: ExperienceConfig = { maxSuccesses: 5, maxFailures: 3, dupThreshold: 0.95 }

/** A new attempt to offer to the store. */
export interface Attempt {
  readonly response: ReadonlyArray<number>
  readonly feedback: ReadonlyArray<number>
  readonly success: boolean
  readonly prov: Provenance
}

export interface ExperienceUpdate {
  readonly next: ProblemExperience
  readonly stored: ReadonlyArray<string>
  readonly duplicates: ReadonlyArray<string>
  readonly evicted: ReadonlyArray<ExperienceItem>
}

export const emptyExperience = (problemId: string): ProblemExperience =>
  ({ problemId, successes: [], failures: [], attempts: 0, solved: 0 })

export const checkExperienceConfig = (c: ExperienceConfig): void => {
  checkPositiveInt("maxSuccesses", c.maxSuccesses)
  checkPositiveInt("maxFailures", c.maxFailures)
  checkUnit("dupThreshold", c.dupThreshold)
}

/** Index of the most redundant item: highest max-cosine to the others, ties by smallest id. */
const mostRedundant = (items: ReadonlyArray<ExperienceItem>, vecs: ReadonlyArray<Float32Array>): number => {
  let best = -1
  let bestScore = -Infinity
  for (let i = 0; i < items.length; i++) {
    let m = -Infinity
    for (let j = 0; j < items.length; j++) if (j !== i) m = Math.max(m, dot(vecs[i]!, vecs[j]!))
    if (m > bestScore || (m === bestScore && compareStrings(items[i]!.id, items[best]!.id) < 0)) {
      best = i
      bestScore = m
    }
  }
  return best
}

/**
 * Offer a batch of attempts for one problem. `embed` must return L2-normalised vectors (cosine = dot),
 * as every Embedder of this package does. Throws MemoryInputError on a duplicate rollout id.
 */
export const updateExperience = (
  prev: ProblemExperience,
  attempts: ReadonlyArray<Attempt>,
  embed: Embedder,
  config: ExperienceConfig = defaultExperienceConfig
): ExperienceUpdate => {
  checkExperienceConfig(config)
  const known = new Set([...prev.successes, ...prev.failures].map((i) => i.id))
  const sorted = [...attempts].sort((a, b) => compareStrings(a.prov.rolloutId, b.prov.rolloutId))
  const sides = { true: [...prev.successes], false: [...prev.failures] }
  const vecs = { true: sides.true.map((i) => embed(i.response)), false: sides.false.map((i) => embed(i.response)) }
  const stored: Array<string> = []
  const duplicates: Array<string> = []
  const evicted: Array<ExperienceItem> = []
  let solved = prev.solved
  for (const a of sorted) {
    const id = a.prov.rolloutId
    checkTokens(`response of ${id}`, a.response)
    checkTokens(`feedback of ${id}`, a.feedback)
    if (known.has(id)) throw new MemoryInputError(`rollout ${id} offered twice to problem ${prev.problemId}`)
    known.add(id)
    if (a.success) solved++
    const key = a.success ? "true" : "false"
    const cap = a.success ? config.maxSuccesses : config.maxFailures
    const side = sides[key]
    const sv = vecs[key]
    const v = embed(a.response)
    const same = (x: ExperienceItem) => x.response.length === a.response.length && x.response.every((t, i) => t === a.response[i])
    if (cap === 0 || side.some(same) || sv.some((u) => dot(u, v) >= config.dupThreshold)) {
      duplicates.push(id)
      continue
    }
    const item: ExperienceItem = { id, response: [...a.response], feedback: a.success ? [] : [...a.feedback], success: a.success, prov: { ...a.prov } }
    side.push(item)
    sv.push(v)
    stored.push(id)
    if (side.length > cap) {
      const k = mostRedundant(side, sv)
      const [gone] = side.splice(k, 1)
      sv.splice(k, 1)
      evicted.push(gone!)
      const at = stored.indexOf(gone!.id)
      if (at >= 0) stored.splice(at, 1)
    }
  }
  const byId = (a: ExperienceItem, b: ExperienceItem) => compareStrings(a.id, b.id)
  const next: ProblemExperience = {
    problemId: prev.problemId,
    successes: sides.true.sort(byId),
    failures: sides.false.sort(byId),
    attempts: prev.attempts + sorted.length,
    solved
  }
  return { next, stored, duplicates, evicted }
}
