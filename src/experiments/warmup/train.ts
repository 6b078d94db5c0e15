/**
 * `buildBase`: the deterministic supervised warm-up. Each step draws `batchSize` distinct train problems
 * (stream (seed, "warmup", "batch", step)), builds each one's example from its visit stream
 * (seed, "warmup", "visit", step, problem id) with the mixture weights of that step, and takes one AdamW
 * step on the cross-entropy of the response tokens given the context.
 *
 * Same recipe => bit-identical weights (on the deterministic wasm backend): nothing here reads the clock,
 * global randomness or arrival order. Wall time is reported only through the optional progress callback.
 */
import { Rng } from "../../core/Rng.ts"
import { makeDomain } from "../../domains/index.ts"
import type { Domain, ProblemBase } from "../../domains/Domain.ts"
import {
  type AdamConfig,
  type AdamState,
  type LrSchedule,
  type ModelConfig,
  type Params,
  createAdamState,
  disposeAdamState,
  initParams,
  nextTokenLoss,
  trainStep,
  validateConfig,
  weightsHash
} from "../../numeric/index.ts"
import { type ContextKind, type Example, type ExamplePool, examplePool, makeExample } from "./examples.ts"
import { type WarmupRecipe, mixtureAt } from "./recipe.ts"

export interface StepReport {
  readonly step: number
  readonly loss: number
  readonly gradNorm: number
  readonly lr: number
  readonly kinds: Readonly<Record<ContextKind, number>>
}

export interface BuildOptions {
  /** Stop after this many steps (a prefix of the recipe; the schedule is still the full recipe's). */
  readonly stopAfter?: number
  /** Called after every step (for logs, or a calibration of the current params that must not change them). */
  readonly onStep?: (r: StepReport, params: Params) => void
}

export interface BuildResult {
  readonly params: Params
  readonly config: ModelConfig
  readonly stepsRun: number
  /** Weights hash after recipe.prefixSteps steps (undefined if the build stopped before). */
  readonly prefixHash: string | undefined
  readonly weightsHash: string
}

/** A right-padded token batch with weights on the positions that predict response tokens. */
export const packBatch = (examples: ReadonlyArray<Example>, contextLength: number): { tokens: Int32Array; weights: Float32Array; B: number; T: number } => {
  const B = examples.length
  const longest = Math.max(...examples.map((e) => e.context.length + e.response.length))
  if (longest > contextLength) throw new RangeError(`warm-up: an example has ${longest} tokens > contextLength ${contextLength}`)
  const T = Math.min(Math.ceil(longest / 8) * 8, contextLength)
  const tokens = new Int32Array(B * T)
  const weights = new Float32Array(B * T)
  examples.forEach((e, b) => {
    tokens.set(e.context, b * T)
    tokens.set(e.response, b * T + e.context.length)
    // position t predicts token t+1: the response occupies [c, c + r), so weights sit on [c - 1, c + r - 1)
    for (let t = e.context.length - 1; t < e.context.length + e.response.length - 1; t++) weights[b * T + t] = 1
  })
  return { tokens, weights, B, T }
}

/** A step's batch: `size` distinct indices of [0, n) (all of them when n <= size), drawn from `rng`. */
export const batchIndices = (rng: Rng, n: number, size: number): Array<number> =>
  rng.shuffle(Array.from({ length: n }, (_, i) => i)).slice(0, Math.min(size, n))

/** The examples of one step (pure function of recipe, pool and step). */
export const stepExamples = <P extends ProblemBase>(
  recipe: WarmupRecipe,
  pool: ExamplePool<P>,
  step: number,
  foreign: ReadonlyArray<ExamplePool<P>> = []
): Array<Example> => {
  const root = Rng.root(recipe.seed).fork("warmup")
  const n = pool.problems.length
  const picked = batchIndices(root.fork("batch", step), n, recipe.batchSize)
  const w = mixtureAt(recipe.mixture, step, recipe.steps)
  return picked.map((i) => {
    const p = pool.problems[i]!
    return makeExample(pool, p, recipe.mixture, w, root.fork("visit", step, p.id), foreign)
  })
}

/** The auxiliary domains' pools (same domain config, the recipe's auxSeeds; both splits). */
export const auxPools = (recipe: WarmupRecipe): Array<ExamplePool<ProblemBase>> =>
  recipe.auxSeeds.map((seed) => examplePool(makeDomain({ ...recipe.domain, seed }) as Domain<ProblemBase>, ["train", "heldout"]))

/**
 * `steps` AdamW steps on `params` (in place, with a fresh optimiser state), step k on `examplesAt(k)`'s
 * response tokens: the loop both warm-up stages share (train.ts, bootstrap.ts). Returns the weights hash
 * after step `prefixStep` (undefined when fewer steps ran).
 */
export const trainSteps = (
  params: Params, config: ModelConfig, steps: number, examplesAt: (step: number) => ReadonlyArray<Example>,
  optimiser: { readonly schedule: LrSchedule; readonly adam: AdamConfig; readonly clipNorm: number }, prefixStep: number,
  onStep?: (r: StepReport, params: Params) => void
): string | undefined => {
  const adam: AdamState = createAdamState(params)
  let prefixHash: string | undefined
  try {
    for (let step = 1; step <= steps; step++) {
      const examples = examplesAt(step)
      const { tokens, weights, B, T } = packBatch(examples, config.contextLength)
      const r = trainStep(params, adam, () => nextTokenLoss(params, config, tokens, weights, B, T), optimiser)
      if (step === prefixStep) prefixHash = weightsHash(params)
      if (onStep !== undefined) {
        const kinds: Record<ContextKind, number> = { none: 0, skill: 0, solution: 0, feedback: 0, memory: 0 }
        for (const e of examples) kinds[e.kind]++
        onStep({ step, loss: r.loss, gradNorm: r.gradNorm, lr: r.lr, kinds }, params)
      }
    }
  } finally {
    disposeAdamState(adam)
  }
  return prefixHash
}

/** Runs the recipe (or its first `stopAfter` steps). The caller owns and must dispose the returned params. */
export const buildBase = (recipe: WarmupRecipe, options: BuildOptions = {}): BuildResult => {
  const config = validateConfig(recipe.model)
  const domain = makeDomain(recipe.domain) as Domain<ProblemBase>
  const pool = examplePool(domain)
  const foreign = auxPools(recipe)
  const params = initParams(config, Rng.root(recipe.seed).fork("warmup", "init"))
  const last = Math.min(recipe.steps, options.stopAfter ?? recipe.steps)
  const prefixHash = trainSteps(params, config, last, (step) => stepExamples(recipe, pool, step, foreign),
    { schedule: recipe.schedule, adam: recipe.adam, clipNorm: recipe.clipNorm }, recipe.prefixSteps, options.onStep)
  return { params, config, stepsRun: last, prefixHash, weightsHash: weightsHash(params) }
}
