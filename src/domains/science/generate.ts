/**
 * Seeded generation of the science domain's rule families and questions (SciKnowEval analogue).
 *
 * A rule family (the cluster) lives in one subdomain and fixes a two-step procedure, its *skill*:
 *   step 1  combine two relevant features:   w = (a + b) % 10 | (a * b) % 10 | max(a, b)
 *   step 2  look the digit up in the family's property table:   property = table[w]
 * A question shows an entity (the two relevant features plus distractors, in shuffled order, values 0..9)
 * and four candidate properties A-D; exactly one is the entity's property. Questions are fixed per problem
 * (the letter of the right option must not depend on the visit); only the cue's noise is per visit.
 * Held-out questions are new entities of the same families (the transfer protocol), disjoint from train.
 */
import { Rng } from "../../core/Rng.ts"
import { DomainConfigError, type ProblemBase, type Split } from "../Domain.ts"
import { FEATURES, Op, digitToken, featureToken, propertyToken, PROPERTIES, SCIENCE_SUBDOMAINS, type ScienceSubdomain } from "../vocab.ts"
import type { ScienceConfig } from "./config.ts"

/** How a family combines its two relevant features; shown in skill hints by the DSL token of the same idea. */
export const COMBINERS = ["add", "mul", "cmax"] as const
export type Combiner = (typeof COMBINERS)[number]

export const combine = (c: Combiner, a: number, b: number): number =>
  c === "add" ? (a + b) % 10 : c === "mul" ? (a * b) % 10 : Math.max(a, b)

export interface Family {
  readonly subdomain: ScienceSubdomain
  /** The relevant feature indices (0..FEATURES-1), in step-1 order. */
  readonly features: readonly [number, number]
  readonly combiner: Combiner
  /** Property index (0..PROPERTIES-1) for each combined digit 0..9. */
  readonly table: ReadonlyArray<number>
  readonly cue: number
}

export interface ScienceProblem extends ProblemBase {
  readonly domain: "science"
  readonly subdomain: ScienceSubdomain
  /** Shown features as (feature index, value) pairs, in prompt order. */
  readonly entity: ReadonlyArray<readonly [number, number]>
  /** Property index of options A-D. */
  readonly options: readonly [number, number, number, number]
  /** 0..3: the right option. */
  readonly answer: number
  /** Step 1's digit and step 2's property: the working the step-level verifier credits. */
  readonly working: readonly [number, number]
  readonly family: Family
}

/**
 * The skill of a family as tokens: the two relevant features and the combiner; the table is learnt, unless
 * `withTable` (config.skillTable) appends it as `digit property` pairs for digits 0..9.
 */
export const familySkill = (f: Family, withTable = false): Array<number> => [
  featureToken(f.features[0]), featureToken(f.features[1]), Op[f.combiner],
  ...(withTable ? f.table.flatMap((p, d) => [digitToken(d), propertyToken(p)]) : [])
]

const drawFamilies = (config: ScienceConfig, seed: number | string): Array<Family> => {
  const rng = Rng.root(seed).fork("science", "families")
  const seen = new Set<string>()
  const out: Array<Family> = []
  for (let tries = 0; out.length < config.families; tries++) {
    if (tries > 100_000) throw new DomainConfigError("science: cannot draw enough distinct families")
    const subdomain = SCIENCE_SUBDOMAINS[out.length % SCIENCE_SUBDOMAINS.length]!
    const [i, j] = rng.shuffle(Array.from({ length: FEATURES }, (_, k) => k))
    const combiner = rng.pick(COMBINERS)
    const key = `${subdomain}:${Math.min(i!, j!)}:${Math.max(i!, j!)}:${combiner}`
    if (seen.has(key)) continue
    seen.add(key)
    // Every property appears in the table at least once when possible, so no option is a give-away.
    const table = rng.shuffle([...Array.from({ length: PROPERTIES }, (_, k) => k), rng.below(PROPERTIES), rng.below(PROPERTIES)])
    const cue = Rng.root(seed).fork("science", "cue", key).below(config.cueBuckets)
    out.push({ subdomain, features: [i!, j!], combiner, table: table.slice(0, 10), cue })
  }
  return out
}

const pad = (n: number, w: number): string => String(n).padStart(w, "0")

const drawQuestion = (
  config: ScienceConfig, family: Family, rng: Rng
): Pick<ScienceProblem, "entity" | "options" | "answer" | "working" | "difficulty"> => {
  const shown = rng.int(config.featuresMin, config.featuresMax)
  const others = rng.shuffle(Array.from({ length: FEATURES }, (_, k) => k).filter((k) => !family.features.includes(k)))
  const feats = rng.shuffle([...family.features, ...others.slice(0, shown - 2)])
  const entity = feats.map((f) => [f, rng.below(10)] as const)
  const value = (f: number): number => entity.find(([g]) => g === f)![1]
  const w = combine(family.combiner, value(family.features[0]), value(family.features[1]))
  const property = family.table[w]!
  const wrong = rng.shuffle(Array.from({ length: PROPERTIES }, (_, k) => k).filter((k) => k !== property)).slice(0, 3)
  const o = rng.shuffle([property, ...wrong])
  const options = [o[0]!, o[1]!, o[2]!, o[3]!] as const
  return { entity, options, answer: options.indexOf(property), working: [w, property], difficulty: shown - 2 }
}

/** All questions of all families, train and held-out, in canonical id order. */
export const generateScienceProblems = (config: ScienceConfig, seed: number | string): Array<ScienceProblem> => {
  const families = drawFamilies(config, seed)
  const problems: Array<ScienceProblem> = []
  families.forEach((family, cluster) => {
    const rng = Rng.root(seed).fork("science", "questions", cluster)
    const seen = new Set<string>()
    const n = config.trainPerFamily + config.heldoutPerFamily
    for (let i = 0, tries = 0; i < n; tries++) {
      if (tries > 50 * n + 1000) throw new DomainConfigError(`science: family ${cluster} cannot yield ${n} distinct entities`)
      const q = drawQuestion(config, family, rng)
      const key = q.entity.map(([f, v]) => `${f}=${v}`).join(",")
      if (seen.has(key)) continue
      seen.add(key)
      const split: Split = i < config.trainPerFamily ? "train" : "heldout"
      const index = split === "train" ? i : i - config.trainPerFamily
      const id = `science/f${pad(cluster, 2)}/${split === "train" ? "t" : "h"}${pad(index, 3)}`
      problems.push({ id, domain: "science", cluster, split, subdomain: family.subdomain, family, ...q })
      i++
    }
  })
  return problems.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}
