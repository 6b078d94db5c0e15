/**
 * The `code` domain (LiveCodeBench analogue): infer a list program from input/output examples and write
 * it in the DSL of dsl.ts; the verifier runs it in the sandboxed interpreter on the problem's hidden tests.
 *
 * Prompt:   [PROB] [CUE] cN  x.. -> y..  [SEP]  x.. -> y..  [SEP]  x.. -> y..  [ANS]
 * Response: program tokens, then [EOS] (tokens after the first [EOS] are ignored).
 * Feedback: [FB] x.. -> expected.. got got.. [END]   for the first failing test, or
 *           [FB] [ERR] kind [END]                      (kind: parse, fuel, size, div0, toolong).
 *
 * Protocols: "train" checks the first half of the hidden tests, "eval" all of them (internalization);
 * held-out problems are new programs of the same cluster skills (transfer).
 * Departure from the paper: programs are 3-7 tokens of a toy DSL, not Python; the "problem statement" is
 * only examples and a noisy cluster cue (a hashed bucket of the skill, right `cueAccuracy` of the time).
 */
import { Control } from "../control.ts"
import { hashValue } from "../../core/Hash.ts"
import type { Rng } from "../../core/Rng.ts"
import { UnknownProblem, type Domain, type Split } from "../Domain.ts"
import { Mark, cueToken, digitToken } from "../vocab.ts"
import { codeConfig, type CodeConfig } from "./config.ts"
import { isParseError, parse } from "./dsl.ts"
import { generateCodeProblems, type CodeProblem } from "./generate.ts"
import { run } from "./interp.ts"
import { verifyCode } from "./verify.ts"

export type CodeDomain = Domain<CodeProblem> & { readonly config: CodeConfig }

const digits = (xs: ReadonlyArray<number>): Array<number> => xs.map(digitToken)

/** The prompt for one visit: fresh examples and cue noise from `visit`, never from the hidden tests' stream. */
export const codePrompt = (config: CodeConfig, problem: CodeProblem, visit: Rng): Array<number> => {
  const program = parse(problem.program)
  if (isParseError(program)) throw new Error(`code: stored program of ${problem.id} does not parse`)
  const cue = visit.bool(config.cueAccuracy)
    ? problem.cue
    : (problem.cue + 1 + visit.below(config.cueBuckets - 1)) % config.cueBuckets
  const out = [Control.PROB, Control.CUE, cueToken(cue)]
  for (let e = 0; e < config.examplesPerPrompt; e++) {
    const input = Array.from({ length: visit.int(config.inputLenMin, config.inputLenMax) }, () => visit.below(10))
    const r = run(program, input, config.limits)
    if (!r.ok) throw new Error(`code: reference program of ${problem.id} fails on an example (${r.error})`)
    if (e > 0) out.push(Control.SEP)
    out.push(...digits(input), Mark.ARROW, ...digits(r.output))
  }
  out.push(Control.ANS)
  return out
}

/** The code domain for (config, seed): same arguments, same problems. Throws DomainConfigError on bad knobs. */
export const makeCodeDomain = (partial: Partial<CodeConfig> = {}, seed: number | string = 0): CodeDomain => {
  const config = codeConfig(partial)
  const all = generateCodeProblems(config, seed)
  const byId = new Map(all.map((p) => [p.id, p]))
  const bySplit: Record<Split, ReadonlyArray<CodeProblem>> = {
    train: all.filter((p) => p.split === "train"),
    heldout: all.filter((p) => p.split === "heldout")
  }
  return {
    name: "code",
    config,
    fingerprint: hashValue({ domain: "code", config, seed }),
    clusters: config.clusters,
    maxResponseTokens: config.programTokensMax + 1, // the program plus its [EOS]
    problems: (split) => bySplit[split],
    problem: (id) => {
      const p = byId.get(id)
      if (p === undefined) throw new UnknownProblem(id, "code")
      return p
    },
    prompt: (problem, visit) => codePrompt(config, problem, visit),
    verify: (problem, response, protocol) => verifyCode(config, problem, response, protocol),
    solution: (problem) => [...problem.program, Control.EOS],
    skill: (problem) => [...problem.skill]
  }
}
