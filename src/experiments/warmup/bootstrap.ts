/**
 * The bootstrapped warm-up stage (issue #13; a recipe with `bootstrap`): the stage-1 base (the recipe
 * without `bootstrap`: the committed base, or its derived twin) samples its own rollouts on the home
 * train split and on every auxiliary pool, the real memory pipeline writes them (bootstrapMemory.ts), and
 * the warm-up goes on for `steps` steps in which a `share` of the visits read that memory, rendered by
 * the teacher's own compose at level EIB (probability `behaviors`) or EI, and learn the reference
 * solution behind it. The other visits follow stage 1's final mixture, so what stage 1 taught is kept.
 *
 * Streams: (seed, "warmup", "bootstrap", ...), disjoint from stage 1's. Same recipe => the same bytes.
 */
import { Rng } from "../../core/Rng.ts"
import { makeDomain } from "../../domains/index.ts"
import type { Domain, ProblemBase } from "../../domains/Domain.ts"
import { compose } from "../../memory/retrieval/compose.ts"
import { presets } from "../../config/presets.ts"
import {
  type LrSchedule,
  type Params,
  validateConfig,
  weightsHash
} from "../../numeric/index.ts"
import { baseDir, derivedBaseDir, loadBase } from "./base.ts"
import { type Example, type ExamplePool, examplePool, makeExample } from "./examples.ts"
import { type RolloutMemory, type RolloutMemorySpec, rolloutMemory, type RolloutMemoryStats } from "./bootstrapMemory.ts"
import { mixtureAt, RECIPES, recipeHash, type WarmupRecipe } from "./recipe.ts"
import { auxPools, batchIndices, buildBase, type BuildResult, type StepReport, trainSteps } from "./train.ts"

export interface BootstrapStage extends RolloutMemorySpec {
  readonly steps: number
  readonly batchSize: number
  readonly schedule: LrSchedule
  /** share of the visits whose context is the bootstrapped memory (the rest: stage 1's final mixture) */
  readonly share: number
  /** probability that a bootstrapped context carries the retrieved behaviors (level EIB, else EI) */
  readonly behaviors: number
}

export interface BootstrapMemories {
  readonly home: RolloutMemory
  readonly foreign: ReadonlyArray<RolloutMemory>
}

export interface BootstrapOptions {
  /** called once per pool after its memory is written (index 0 = home, then the auxiliary pools) */
  readonly onMemory?: (pool: number, stats: RolloutMemoryStats) => void
  readonly onStep?: (r: StepReport, params: Params) => void
}

const streams = (recipe: WarmupRecipe): Rng => Rng.root(recipe.seed).fork("warmup", "bootstrap")

/** The recipe's stage 1: everything but `bootstrap` (the committed recipe when the model is the committed one). */
export const stageOne = (recipe: WarmupRecipe): WarmupRecipe => {
  const { bootstrap: _, ...first } = recipe
  return first
}

/**
 * Stage 1's weights: the committed base when stage 1 is the committed recipe, else the derived base built
 * for it, else (none built, or damaged) stage 1 built here (deterministic: the same bytes either way).
 */
export const stageOneParams = (recipe: WarmupRecipe, log: (line: string) => void = () => {}): Params => {
  const first = stageOne(recipe)
  const domain = first.domain.name
  const committed = RECIPES[domain]
  const dir = committed !== undefined && recipeHash(committed) === recipeHash(first) ? baseDir(domain) : derivedBaseDir(domain, first)
  try {
    const base = loadBase(domain, dir, first)
    log(`stage 1: the base in ${dir}`)
    return base.params
  } catch (e) {
    log(`stage 1: no usable base in ${dir} (${(e as Error).message}); building it (${first.steps} steps)`)
    return buildBase(first).params
  }
}

/** The home and auxiliary pools' memories written from `params`'s own rollouts. */
export const bootstrapMemories = (
  params: Params, recipe: WarmupRecipe, home: ExamplePool<ProblemBase>, foreign: ReadonlyArray<ExamplePool<ProblemBase>>, options: BootstrapOptions = {}
): BootstrapMemories => {
  const stage = recipe.bootstrap
  if (stage === undefined) throw new RangeError("warm-up: bootstrapMemories needs a recipe with `bootstrap`")
  const model = validateConfig(recipe.model)
  // the keeper reads only `cfg.memory`, which rolloutMemory replaces by the stage's: the recipe's hash covers it
  const cfg = presets["default"]!
  const memoryOf = (pool: ExamplePool<ProblemBase>, i: number): RolloutMemory => {
    const m = rolloutMemory(params, model, pool, cfg, stage, streams(recipe).fork("memory", i))
    options.onMemory?.(i, m.stats)
    return m
  }
  return { home: memoryOf(home, 0), foreign: foreign.map((p, i) => memoryOf(p, i + 1)) }
}

/**
 * One stage-2 visit: with probability `share` the bootstrapped memory of the home problem (or, with
 * probability mixture.foreign, of a problem of an auxiliary pool) before its prompt, the reference
 * solution as the target; otherwise stage 1's example at its last step's mixture.
 */
export const bootstrapExample = <P extends ProblemBase>(
  recipe: WarmupRecipe, home: ExamplePool<P>, homeProblem: P, foreign: ReadonlyArray<ExamplePool<P>>, memories: BootstrapMemories, visit: Rng
): Example => {
  const stage = recipe.bootstrap!
  const rng = visit.fork("bootstrap")
  if (!rng.bool(stage.share)) return makeExample(home, homeProblem, recipe.mixture, mixtureAt(recipe.mixture, recipe.steps, recipe.steps), visit, foreign)
  let pool = home
  let problem = homeProblem
  let memory = memories.home
  if (foreign.length > 0 && rng.bool(recipe.mixture.foreign)) {
    const i = rng.below(foreign.length)
    pool = foreign[i]!
    problem = rng.pick(pool.problems)
    memory = memories.foreign[i]!
  }
  const prompt = pool.domain.prompt(problem, visit.fork("prompt"))
  const levels = rng.bool(stage.behaviors) ? "EIB" : "EI"
  const context = compose(memory.views.get(problem.id) ?? {}, { prompt }, { levels, budget: stage.memory.contextTokensMax }).tokens
  return { problemId: problem.id, foreign: pool !== home, kind: "memory", context, response: pool.domain.solution(problem) }
}

/** The whole bootstrapped recipe: stage 1 (stageOneParams), then this stage. The caller disposes the params. */
export const buildBootstrapped = (recipe: WarmupRecipe, options: BootstrapOptions & { readonly log?: (line: string) => void } = {}): BuildResult =>
  continueBootstrapped(stageOneParams(recipe, options.log), recipe, options)

/**
 * Runs the bootstrapped stage on `params` (the stage-1 base; trained in place, with a fresh AdamW state
 * and the stage's own schedule). Returns the build result of the whole recipe.
 */
export const continueBootstrapped = (params: Params, recipe: WarmupRecipe, options: BootstrapOptions = {}): BuildResult => {
  const stage = recipe.bootstrap
  if (stage === undefined) throw new RangeError("warm-up: continueBootstrapped needs a recipe with `bootstrap`")
  const config = validateConfig(recipe.model)
  const home = examplePool(makeDomain(recipe.domain) as Domain<ProblemBase>)
  const foreign = auxPools(recipe)
  const memories = bootstrapMemories(params, recipe, home, foreign, options)
  const root = streams(recipe)
  const examplesAt = (step: number): Array<Example> =>
    batchIndices(root.fork("batch", step), home.problems.length, stage.batchSize).map((i) =>
      bootstrapExample(recipe, home, home.problems[i]!, foreign, memories, root.fork("visit", step, home.problems[i]!.id)))
  const prefixHash = trainSteps(params, config, stage.steps, examplesAt,
    { schedule: stage.schedule, adam: recipe.adam, clipNorm: recipe.clipNorm }, Math.min(recipe.prefixSteps, stage.steps), options.onStep)
  return { params, config, stepsRun: stage.steps, prefixHash, weightsHash: weightsHash(params) }
}
