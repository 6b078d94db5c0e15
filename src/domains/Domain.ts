/**
 * The interface every task domain implements. Pure: no tfjs, no Effect runtime, no clock, no global
 * randomness. A domain is a seeded generator (same config + seed => the same problems, byte for byte in
 * the canonical encoding) plus a verifier that never throws on any response.
 *
 * Evaluation protocols (PMD §4, ARCHITECTURE.md §9.4):
 * - internalization: `verify(p, r, "train")` may use only part of a problem's checks (code: the first half
 *   of its hidden unit tests) while `verify(p, r, "eval")` uses all of them, on the same problems;
 * - transfer: evaluate on `problems("heldout")`, new problems of the same clusters / rule families.
 */
import type { Rng } from "../core/Rng.ts"

export type DomainName = "code" | "science"
export type Split = "train" | "heldout"
export type Protocol = "train" | "eval"

/** What every problem carries; domains add their own (plain, serialisable) fields. */
export interface ProblemBase {
  /** Stable, sortable id, e.g. `code/c03/t017`; canonical order everywhere is by this id. */
  readonly id: string
  readonly domain: DomainName
  /** The latent cluster (code) or rule family (science) whose skill the problem shares. */
  readonly cluster: number
  readonly split: Split
  /** 0 = easiest; each domain documents its scale. */
  readonly difficulty: number
}

/** Why a response earned nothing before any check ran (or a check could not finish). */
export type ErrorKind = "parse" | "fuel" | "size" | "div0" | "toolong"

/** A verifier's judgement of one response. */
export interface Verdict {
  /** In [0, 1]. Sparse by default: 1 only when every check of the protocol passes. */
  readonly reward: number
  /** Checks passed / checks run (code: unit tests; science: answer and, in step mode, working steps). */
  readonly passed: number
  readonly total: number
  /** All checks passed (the success that fills experience memory). */
  readonly solved: boolean
  /** A complete `[FB] ... [END]` block describing the first failure; empty when solved. */
  readonly feedback: ReadonlyArray<number>
  /** Set when the response could not be run at all or a run aborted. */
  readonly error?: ErrorKind
}

export interface Domain<P extends ProblemBase = ProblemBase> {
  readonly name: DomainName
  /** Hash of (name, config, seed): two domains with equal fingerprints generate the same problems. */
  readonly fingerprint: string
  readonly clusters: number
  /** Upper bound on response tokens the policy may sample (the verifier rejects longer ones). */
  readonly maxResponseTokens: number
  /** The problems of a split, in canonical id order. */
  problems(split: Split): ReadonlyArray<P>
  /** Lookup by id; throws UnknownProblem for an id this domain never generated. */
  problem(id: string): P
  /** Prompt tokens: starts with [PROB], ends with [ANS]. Visit-specific parts (examples, cue noise) come from `visit`. */
  prompt(problem: P, visit: Rng): Array<number>
  /** Never throws: malformed, hostile or truncated responses get reward 0 and feedback. */
  verify(problem: P, response: ReadonlyArray<number>, protocol: Protocol): Verdict
  /** A reference response (ends with [EOS]) that scores 1 under both protocols. */
  solution(problem: P): Array<number>
  /** The cluster's shared sub-procedure as tokens (no [EOS]): what a skill-only hint block shows. */
  skill(problem: P): Array<number>
}

/** A problem id this domain never generated. */
export class UnknownProblem extends Error {
  readonly _tag = "UnknownProblem"
  readonly problemId: string
  constructor(problemId: string, domain: string) {
    super(`${domain}: no problem with id '${problemId}'`)
    this.problemId = problemId
  }
}

/** A configuration the generator cannot satisfy (out of range, or asks for more distinct problems than exist). */
export class DomainConfigError extends Error {
  readonly _tag = "DomainConfigError"
}

/** Checks a numeric knob; throws DomainConfigError naming it. */
export const requireRange = (name: string, value: number, lo: number, hi: number, integer = true): number => {
  if (!Number.isFinite(value) || value < lo || value > hi || (integer && !Number.isInteger(value))) {
    throw new DomainConfigError(`config.${name} must be ${integer ? "an integer " : ""}in [${lo}, ${hi}], got ${value}`)
  }
  return value
}
