/**
 * Building a domain from a serialisable spec: what the verifier workers receive so that each thread
 * regenerates the very same problems (checked by comparing fingerprints) instead of receiving them.
 */
import type { Domain, DomainName, ProblemBase } from "./Domain.ts"
import { makeCodeDomain } from "./code/codeDomain.ts"
import type { CodeConfig } from "./code/config.ts"
import type { ScienceConfig } from "./science/config.ts"
import { makeScienceDomain } from "./science/scienceDomain.ts"

export type DomainSpec =
  | { readonly name: "code"; readonly seed: number | string; readonly config?: Partial<CodeConfig> }
  | { readonly name: "science"; readonly seed: number | string; readonly config?: Partial<ScienceConfig> }

/** The domain a spec names. Throws DomainConfigError on bad knobs. */
export const makeDomain = (spec: DomainSpec): Domain<ProblemBase> =>
  spec.name === "code"
    ? (makeCodeDomain(spec.config ?? {}, spec.seed) as unknown as Domain<ProblemBase>)
    : (makeScienceDomain(spec.config ?? {}, spec.seed) as unknown as Domain<ProblemBase>)

export const DOMAIN_NAMES: ReadonlyArray<DomainName> = ["code", "science"]

export type { Domain, DomainName, ProblemBase, Protocol, Split, Verdict, ErrorKind } from "./Domain.ts"
export type { CodeProblem } from "./code/generate.ts"
export type { ScienceProblem } from "./science/generate.ts"
export { makeCodeDomain } from "./code/codeDomain.ts"
export { makeScienceDomain } from "./science/scienceDomain.ts"
