/**
 * Seeded generation of the code domain's clusters and problems (ARCHITECTURE.md §9, second prototype).
 *
 * A program = [extra op (tier 3 only)] ++ cluster skill (a fixed, distinct 2-op pair) ++ a problem-specific
 * tail whose parameters are readable from the examples (`push k`: the last output digit; `take k`: the
 * output length; `add k`: a constant shift of every digit). Programs are distinct within a cluster across
 * both splits, so held-out problems are new programs of known skills (the transfer protocol). Hidden tests
 * are fixed per problem; prompt examples are not stored here (they are re-drawn per visit).
 *
 * Everything is drawn from Rng streams keyed by (seed, "code", purpose, ...), so the output depends only on
 * (config, seed), never on call order.
 */
import { Rng } from "../../core/Rng.ts"
import { DomainConfigError, type ProblemBase, type Split } from "../Domain.ts"
import type { CodeConfig } from "./config.ts"
import { SKILL_OPS, parse, programToTokens, type Instr, type Program } from "./dsl.ts"
import { run } from "./interp.ts"

export interface CodeTest {
  readonly input: ReadonlyArray<number>
  readonly output: ReadonlyArray<number>
}

export interface CodeProblem extends ProblemBase {
  readonly domain: "code"
  /** The cluster's 2-op skill, as tokens. */
  readonly skill: ReadonlyArray<number>
  /** The reference program, as tokens (no [EOS]). */
  readonly program: ReadonlyArray<number>
  /** The cluster's cue bucket (the prompt shows it with probability cueAccuracy). */
  readonly cue: number
  /** Hidden unit tests, fixed per problem. */
  readonly tests: ReadonlyArray<CodeTest>
}

const u = (op: (typeof SKILL_OPS)[number]): Instr => ({ kind: "unary", op })
const p = (op: "take" | "push" | "add", k: number): Instr => ({ kind: "param", op, k })

const randomList = (rng: Rng, lo: number, hi: number): Array<number> =>
  Array.from({ length: rng.int(lo, hi) }, () => rng.below(10))

const outputsOn = (program: Program, probes: ReadonlyArray<ReadonlyArray<number>>): string =>
  probes.map((x) => {
    const r = run(program, x)
    return r.ok ? r.output.join("") : `!${r.error}`
  }).join("|")

/** Distinct 2-op skills: no pair equals the identity, a single op, or an earlier pair on the probes. */
const drawSkills = (config: CodeConfig, seed: number | string): Array<Program> => {
  const rng = Rng.root(seed).fork("code", "skills")
  const probes = Array.from({ length: 40 }, () => randomList(rng, config.inputLenMin, config.inputLenMax))
  const seen = new Set<string>([outputsOn([], probes), ...SKILL_OPS.map((o) => outputsOn([u(o)], probes))])
  const pairs = rng.shuffle(SKILL_OPS.flatMap((a) => SKILL_OPS.filter((b) => b !== a).map((b) => [u(a), u(b)])))
  const skills: Array<Program> = []
  for (const pair of pairs) {
    if (skills.length === config.clusters) break
    const sig = outputsOn(pair, probes)
    if (seen.has(sig)) continue
    seen.add(sig)
    skills.push(pair)
  }
  if (skills.length < config.clusters) {
    throw new DomainConfigError(`code: only ${skills.length} distinct skills exist, config.clusters = ${config.clusters}`)
  }
  return skills
}

/** Every candidate program of a cluster, by difficulty tier (the pool problems are drawn from, without replacement). */
const candidatesByTier = (config: CodeConfig, skill: Program): Array<Array<Program>> => {
  const takes = [1, 2, 3].filter((k) => k < config.inputLenMin).map((k) => [p("take", k)])
  const pushes = Array.from({ length: 10 }, (_, k) => [p("push", k)])
  const adds = Array.from({ length: 9 }, (_, k) => [p("add", k + 1)])
  const tier0 = [...pushes, ...takes]
  const tier2 = [...takes, ...adds].flatMap((a) => pushes.map((b) => [...a, ...b]))
  const tails = [tier0, adds, tier2]
  const base = tails.map((ts) => ts.map((t) => [...skill, ...t]))
  // Tier 3: an extra op in front that really changes the function (so `extra ++ skill` never collapses to `skill`).
  const probes = Array.from({ length: 24 }, (_, i) => Array.from({ length: 6 }, (_, j) => (i * 7 + j * 3 + i * j) % 10))
  const skillSig = outputsOn(skill, probes)
  const extras = SKILL_OPS.filter((o) => outputsOn([u(o), ...skill], probes) !== skillSig)
  const tier3 = extras.flatMap((o) => [...tier0, ...adds].map((t) => [u(o), ...skill, ...t]))
  return [...base, tier3]
}

interface Drawn {
  readonly program: Program
  readonly tier: number
}

/** Draws `n` distinct programs for one cluster: tier by weight (among tiers not yet exhausted), then a program. */
const drawPrograms = (config: CodeConfig, skill: Program, n: number, rng: Rng, cluster: number): Array<Drawn> => {
  const pools = candidatesByTier(config, skill).map((ps) => rng.shuffle(ps))
  const out: Array<Drawn> = []
  while (out.length < n) {
    const weights = pools.map((pool, t) => (pool.length > 0 ? config.difficultyWeights[t]! : 0))
    if (!weights.some((w) => w > 0)) {
      throw new DomainConfigError(`code: cluster ${cluster} has only ${out.length} distinct programs, ${n} requested`)
    }
    const tier = rng.weighted(weights)
    out.push({ program: pools[tier]!.pop()!, tier })
  }
  return out
}

const drawTests = (config: CodeConfig, program: Program, rng: Rng): Array<CodeTest> => {
  const tests: Array<CodeTest> = []
  const seen = new Set<string>()
  for (let tries = 0; tests.length < config.testsPerProblem; tries++) {
    if (tries > 10_000) throw new DomainConfigError("code: cannot draw distinct test inputs; widen the input lengths")
    const input = randomList(rng, config.inputLenMin, config.inputLenMax)
    if (seen.has(input.join(""))) continue
    seen.add(input.join(""))
    const r = run(program, input, config.limits)
    if (!r.ok) throw new DomainConfigError(`code: a reference program fails (${r.error}); raise config.limits`)
    tests.push({ input, output: r.output })
  }
  return tests
}

const pad = (n: number, w: number): string => String(n).padStart(w, "0")

/** All problems of all clusters, train and held-out, in canonical id order. */
export const generateCodeProblems = (config: CodeConfig, seed: number | string): Array<CodeProblem> => {
  const skills = drawSkills(config, seed)
  const root = Rng.root(seed).fork("code")
  const problems: Array<CodeProblem> = []
  skills.forEach((skill, cluster) => {
    const skillTokens = programToTokens(skill)
    const cue = root.fork("cue", ...skillTokens).below(config.cueBuckets)
    const n = config.trainPerCluster + config.heldoutPerCluster
    const drawn = drawPrograms(config, skill, n, root.fork("programs", cluster), cluster)
    drawn.forEach(({ program, tier }, i) => {
      const split: Split = i < config.trainPerCluster ? "train" : "heldout"
      const index = split === "train" ? i : i - config.trainPerCluster
      const id = `code/c${pad(cluster, 2)}/${split === "train" ? "t" : "h"}${pad(index, 3)}`
      problems.push({
        id, domain: "code", cluster, split, difficulty: tier,
        skill: skillTokens, program: programToTokens(program), cue,
        tests: drawTests(config, program, root.fork("tests", id))
      })
    })
  })
  return problems.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

/** Re-parses a stored program; a generator bug (never user input) if it fails. */
export const referenceProgram = (problem: CodeProblem): Program => {
  const r = parse(problem.program)
  if ("_tag" in r) throw new Error(`code: stored program of ${problem.id} does not parse: ${r.reason}`)
  return r
}
