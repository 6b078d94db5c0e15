/**
 * Verification without generation: what a verifier worker thread needs. A worker receives a
 * `VerifySpec` (domain name + full config) and the problems themselves, so it neither regenerates the
 * domain nor loads the generators, the seeded Rng or the codec (it starts in a fraction of the time).
 */
import type { Protocol, ProblemBase, Verdict } from "./Domain.ts"
import type { CodeConfig } from "./code/config.ts"
import type { CodeProblem } from "./code/generate.ts"
import { verifyCode } from "./code/verify.ts"
import type { ScienceConfig } from "./science/config.ts"
import type { ScienceProblem } from "./science/generate.ts"
import { verifyScience } from "./science/verify.ts"

export type VerifySpec =
  | { readonly name: "code"; readonly config: CodeConfig }
  | { readonly name: "science"; readonly config: ScienceConfig }

/** The spec of a built domain (its validated config). */
export const verifySpecOf = (domain: { readonly name: "code" | "science"; readonly config: unknown }): VerifySpec =>
  domain.name === "code"
    ? { name: "code", config: domain.config as CodeConfig }
    : { name: "science", config: domain.config as ScienceConfig }

/** Verifies with a spec; the problem must come from a domain of the same name (checked). Never throws otherwise. */
export const verifyWith = (
  spec: VerifySpec,
  problem: ProblemBase,
  response: ReadonlyArray<number>,
  protocol: Protocol
): Verdict => {
  if (problem.domain !== spec.name) throw new TypeError(`verify: a ${problem.domain} problem given to the ${spec.name} verifier`)
  return spec.name === "code"
    ? verifyCode(spec.config, problem as CodeProblem, response, protocol)
    : verifyScience(spec.config, problem as ScienceProblem, response)
}
