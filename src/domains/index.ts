/**
 * The domains' public entry point, and building a domain from a serialisable spec (name, seed, knobs):
 * what a run's config names, and what the verifier pool is started with.
 */
import type { DomainName } from "./Domain.ts"
import { makeCodeDomain, type CodeDomain } from "./code/codeDomain.ts"
import type { CodeConfig } from "./code/config.ts"
import type { ScienceConfig } from "./science/config.ts"
import { makeScienceDomain, type ScienceDomain } from "./science/scienceDomain.ts"

export type DomainSpec =
  | { readonly name: "code"; readonly seed: number | string; readonly config?: Partial<CodeConfig> }
  | { readonly name: "science"; readonly seed: number | string; readonly config?: Partial<ScienceConfig> }

export type AnyDomain = CodeDomain | ScienceDomain

/**
 * The domain a spec names. Throws DomainConfigError on bad knobs. To verify a problem looked up by id
 * without narrowing the union, use `verifyWith(verifySpecOf(domain), problem, response, protocol)`.
 */
export const makeDomain = (spec: DomainSpec): AnyDomain =>
  spec.name === "code" ? makeCodeDomain(spec.config ?? {}, spec.seed) : makeScienceDomain(spec.config ?? {}, spec.seed)

export const DOMAIN_NAMES: ReadonlyArray<DomainName> = ["code", "science"]

export type { Domain, DomainName, ProblemBase, Protocol, Split, Verdict, ErrorKind } from "./Domain.ts"
export type { CodeProblem } from "./code/generate.ts"
export type { ScienceProblem } from "./science/generate.ts"
export { makeCodeDomain } from "./code/codeDomain.ts"
export { makeScienceDomain } from "./science/scienceDomain.ts"
export type { CodeDomain } from "./code/codeDomain.ts"
export type { ScienceDomain } from "./science/scienceDomain.ts"
export { verifySpecOf, verifyWith, type VerifySpec } from "./verify.ts"
