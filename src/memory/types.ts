/**
 * Shared value types and typed errors of procedural memory (experience, insight, behavior).
 *
 * Every item is plain, immutable, Codec-encodable data (arrays of token ids, numbers, strings): memory
 * state can be hashed, diffed and stored in the versioned snapshot store without adapters. Token
 * sequences are domain-agnostic `number[]` (ids of src/domains/vocab.ts).
 */

/** Where a piece of memory came from: the rollout that produced it, under which policy, at which step. */
export interface Provenance {
  readonly rolloutId: string
  readonly policyVersion: number
  readonly step: number
  readonly reward: number
}

/** Provenance of derived items (insights, behaviors): every rollout they were distilled from. */
export interface Sources {
  /** Sorted, distinct rollout ids: never shrinks when an item is updated or merged. */
  readonly rolloutIds: ReadonlyArray<string>
  /** Policy version and step of the latest write. */
  readonly policyVersion: number
  readonly step: number
}

/** The step and policy version a memory write happens under. */
export interface WriteContext {
  readonly step: number
  readonly policyVersion: number
}

/** Bad input to a memory function (wrong shape, out-of-range config): never a silent wrong result. */
export class MemoryInputError extends Error {
  readonly _tag = "MemoryInputError"
  readonly problem: string
  constructor(problem: string) {
    super(`memory: ${problem}`)
    this.problem = problem
  }
}

/** Sorted union of two sorted string lists (provenance merges: idempotent, order-independent). */
export const unionSorted = (a: ReadonlyArray<string>, b: ReadonlyArray<string>): Array<string> => {
  const out: Array<string> = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    const x = a[i]
    const y = b[j]
    if (y === undefined || (x !== undefined && x < y)) {
      if (out[out.length - 1] !== x) out.push(x!)
      i++
    } else if (x === undefined || y < x) {
      if (out[out.length - 1] !== y) out.push(y)
      j++
    } else {
      if (out[out.length - 1] !== x) out.push(x)
      i++
      j++
    }
  }
  return out
}

/** Sorted distinct copy of a string list. */
export const sortedDistinct = (xs: Iterable<string>): Array<string> => [...new Set(xs)].sort()

/** Merge two sources records: union of rollouts, latest write wins for step/version (by step, then version). */
export const mergeSources = (a: Sources, b: Sources): Sources => {
  const later = b.step > a.step || (b.step === a.step && b.policyVersion >= a.policyVersion) ? b : a
  return { rolloutIds: unionSorted(a.rolloutIds, b.rolloutIds), policyVersion: later.policyVersion, step: later.step }
}

export const checkPositiveInt = (name: string, v: number): void => {
  if (!Number.isInteger(v) || v < 0) throw new MemoryInputError(`${name} must be a non-negative integer, got ${v}`)
}

export const checkUnit = (name: string, v: number): void => {
  if (!(v >= -1 && v <= 1)) throw new MemoryInputError(`${name} must be a cosine in [-1, 1], got ${v}`)
}

export const checkTokens = (name: string, tokens: ReadonlyArray<number>): void => {
  for (const t of tokens) {
    if (!Number.isInteger(t) || t < 0) throw new MemoryInputError(`${name}: token ids must be non-negative integers, got ${t}`)
  }
}
