/**
 * The `science` domain (SciKnowEval analogue): four-option multiple-choice questions from latent rule
 * families in four subdomains (bio, chem, phys, mat).
 *
 * Prompt:   [PROB] [CUE] cN  subdomain  f3 7 f0 2 f5 9  [SEP]  A p4 B p1 C p6 D p0  [ANS]
 *           (config.optionLayout and config.skillTable change the options' layout and the skill: see config.ts)
 * Response: optional working then a letter, then [EOS]; the reference is `w p L [EOS]`
 *           (w = step-1 digit, p = step-2 property, L = the right letter).
 * Answer extraction (by rule, like SciKnowEval's): the last option-letter token before [EOS].
 * Reward "answer" (default): 1 iff that letter is right. Reward "steps": the first digit token is checked
 * against step 1, the first property token against step 2, the letter as before; reward = fraction right.
 * Feedback: [FB] got L [END] (the wrong letter given), or [FB] got x [END] for the first wrong step in
 * steps mode, or [FB] [ERR] parse|toolong [END] when no letter can be extracted.
 * Protocols: "train" and "eval" verify alike here; evaluation is by transfer to held-out questions.
 */
import { Control } from "../control.ts"
import { hashValue } from "../../core/Hash.ts"
import type { Rng } from "../../core/Rng.ts"
import { UnknownProblem, type Domain, type Split } from "../Domain.ts"
import { PROPERTIES, Subdomain, cueToken, digitToken, featureToken, letterToken, propertyToken } from "../vocab.ts"
import { scienceConfig, type ScienceConfig } from "./config.ts"
import { familySkill, generateScienceProblems, type ScienceProblem } from "./generate.ts"
import { verifyScience } from "./verify.ts"

export type ScienceDomain = Domain<ScienceProblem> & { readonly config: ScienceConfig }

/** The question's tokens; only the cue's noise comes from `visit`, so the right letter never moves. */
export const sciencePrompt = (config: ScienceConfig, problem: ScienceProblem, visit: Rng): Array<number> => {
  const own = problem.family.cue
  const cue = visit.bool(config.cueAccuracy) ? own : (own + 1 + visit.below(config.cueBuckets - 1)) % config.cueBuckets
  const out = [Control.PROB, Control.CUE, cueToken(cue), Subdomain[problem.subdomain]]
  for (const [f, v] of problem.entity) out.push(featureToken(f), digitToken(v))
  out.push(Control.SEP)
  const layout = config.optionLayout ?? "letterFirst"
  if (layout === "slots") {
    for (let k = 0; k < PROPERTIES; k++) {
      const i = problem.options.indexOf(k)
      out.push(i < 0 ? Control.UNK : letterToken(i))
    }
  } else problem.options.forEach((p, i) => (layout === "propertyFirst" ? out.push(propertyToken(p), letterToken(i)) : out.push(letterToken(i), propertyToken(p))))
  out.push(Control.ANS)
  return out
}

/** The science domain for (config, seed): same arguments, same questions. Throws DomainConfigError on bad knobs. */
export const makeScienceDomain = (partial: Partial<ScienceConfig> = {}, seed: number | string = 0): ScienceDomain => {
  const config = scienceConfig(partial)
  const all = generateScienceProblems(config, seed)
  const byId = new Map(all.map((p) => [p.id, p]))
  const bySplit: Record<Split, ReadonlyArray<ScienceProblem>> = {
    train: all.filter((p) => p.split === "train"),
    heldout: all.filter((p) => p.split === "heldout")
  }
  return {
    name: "science",
    config,
    fingerprint: hashValue({ domain: "science", config, seed }),
    clusters: config.families,
    maxResponseTokens: config.responseTokensMax + 1,
    problems: (split) => bySplit[split],
    problem: (id) => {
      const p = byId.get(id)
      if (p === undefined) throw new UnknownProblem(id, "science")
      return p
    },
    prompt: (problem, visit) => sciencePrompt(config, problem, visit),
    verify: (problem, response) => verifyScience(config, problem, response),
    solution: (p) => [digitToken(p.working[0]), propertyToken(p.working[1]), letterToken(p.answer), Control.EOS],
    skill: (p) => familySkill(p.family, config.skillTable === true)
  }
}
