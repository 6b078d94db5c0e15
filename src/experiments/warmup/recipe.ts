/**
 * The warm-up recipe: a plain, serialisable description of how a base checkpoint is built (domain,
 * model, optimiser, steps, batch, mixture schedule, seed). Its hash (core/Hash.ts `hashValue`) names
 * the committed base: `loadBase` refuses a checkpoint whose recorded hash differs from the recipe in
 * the code, so changing any knob here without rebuilding is caught instead of silently used.
 */
import { hashValue } from "../../core/Hash.ts"
import type { DomainSpec } from "../../domains/index.ts"
import type { DomainName } from "../../domains/Domain.ts"
import { VOCAB_SIZE } from "../../domains/vocab.ts"
import type { AdamConfig, LrSchedule, ModelConfig } from "../../numeric/index.ts"
import { defaultConfig } from "../../config/presets.ts"
import type { BootstrapStage } from "./bootstrap.ts"
import type { MemoryMix } from "./memoryContext.ts"

/**
 * Relative weights of the context kinds of one warm-up example (ARCHITECTURE.md §9.3):
 * - none:     the bare prompt (what memory-free evaluation sees);
 * - skill:    `[BEH] skill [END]`, the cluster's shared procedure only (a partial hint);
 * - solution: `[SOL] solution-without-EOS [END]` (a copy-ready hint, as a stored success);
 * - feedback: `[FB] ... [END]` from the verifier on a corrupted solution (a failed attempt);
 * - memory:   the problem's synthetic memory at levels EI / EIB ([STRAT] [LESSON] [BEH] [SOL] [FB],
 *             see memoryContext.ts). Absent = 0 (recipes before it keep their hash).
 */
export interface MixtureWeights {
  readonly none: number
  readonly skill: number
  readonly solution: number
  readonly feedback: number
  readonly memory?: number
}

export interface Mixture {
  /** Weights at step 1 and at the last step; linear in between. */
  readonly start: MixtureWeights
  readonly end: MixtureWeights
  /**
   * Weights of 0, 1, 2 distractor skills (of other clusters) joined by [SEP] in a skill hint, in a
   * random order: at training time the teacher gets the top-3 retrieved behaviors, not one.
   */
  readonly distractors: readonly [number, number, number]
  /** Probability that a feedback context also carries the skill hint (blocks of memory co-occur). */
  readonly feedbackWithSkill: number
  /**
   * Probability that a skill or solution context is built on a foreign problem: one of an auxiliary
   * domain (same config, another seed: other skills, programs never seen) instead of the train split.
   * Why: on train problems a hinted answer can be recalled from memory of the problem, so the hint
   * itself is not needed; on foreign problems only reading the hint (and the examples) works, which is
   * what the teacher's context must teach the model to do.
   */
  readonly foreign: number
  /** How memory contexts are drawn (needed when a memory weight is positive). */
  readonly memory?: MemoryMix
  /**
   * Probability that a solution context shows the solution without its last token (science: the working
   * `w p` without the letter), so that last token must be found from the prompt (the option whose
   * property is p): a drill of the answer step alone. Absent = never (recipes before it keep their hash).
   */
  readonly workingDrill?: number
}

export interface WarmupRecipe {
  readonly version: 1
  readonly domain: DomainSpec
  readonly model: ModelConfig
  /** Root of every stream of the build: init, batches, visits. */
  readonly seed: number
  readonly steps: number
  readonly batchSize: number
  readonly schedule: LrSchedule
  readonly adam: AdamConfig
  readonly clipNorm: number
  readonly mixture: Mixture
  /** Seeds of the auxiliary domains that foreign hinted contexts draw from (both of their splits). */
  readonly auxSeeds: ReadonlyArray<number>
  /** Steps after which the build's weights hash is recorded in recipe.json (the cheap determinism guard). */
  readonly prefixSteps: number
  /**
   * A second stage on memory the real pipeline wrote from the stage-1 base's own rollouts (bootstrap.ts).
   * Absent = none (the committed recipes; recipes before it keep their hash).
   */
  readonly bootstrap?: BootstrapStage
}

const CODE_STEPS = 2000

/** The code-domain base recipe (see README.md for why each part is there). */
export const codeRecipe: WarmupRecipe = {
  version: 1,
  // fewer train problems per cluster and more tier-0 ones, so held-out keeps tier-0 programs (a tier's
  // pool is finite and train draws first); a noisier cue, so the skill hint carries information the
  // prompt lacks (ARCHITECTURE.md §9.3: a skill hint worth >= +15 points)
  domain: { name: "code", seed: 0, config: { trainPerCluster: 16, heldoutPerCluster: 8, difficultyWeights: [0.5, 0.2, 0.2, 0.1], cueAccuracy: 0.65 } },
  model: { vocabSize: VOCAB_SIZE, contextLength: 128, dModel: 64, nLayers: 2, nHeads: 4, dMlp: 256 },
  seed: 1,
  steps: CODE_STEPS,
  batchSize: 48,
  schedule: { lr: 3e-3, warmupSteps: 100, decay: "cosine", totalSteps: CODE_STEPS, minLr: 2e-4 },
  adam: { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.01 },
  clipNorm: 1,
  mixture: {
    start: { none: 0.3, skill: 0.25, solution: 0.2, feedback: 0.05, memory: 0.2 },
    end: { none: 0.7, skill: 0.08, solution: 0.1, feedback: 0.02, memory: 0.1 },
    distractors: [0.4, 0.3, 0.3],
    feedbackWithSkill: 0.3,
    foreign: 0.7,
    memory: { solved: 0.8, behaviors: 0.5, budget: 112 }
  },
  auxSeeds: [101, 102, 103, 104, 105, 106, 107, 108],
  prefixSteps: 20
}

const SCIENCE_STEPS = 1200

/**
 * The science mixture: hinted contexts dominate and are mostly foreign (85%), because a science question
 * carries nothing re-drawn but its cue, so home questions are memorised whatever their context; few bare
 * prompts (0.05 -> 0.15) keep the train split from being memorised outright (README: candidate F, with
 * 0.15 -> 0.35, reached 97% memory-free on train). Half of the solution contexts drill the letter step.
 */
const scienceMixture: Mixture = {
  start: { none: 0.05, skill: 0.4, solution: 0.3, feedback: 0.05, memory: 0.2 },
  end: { none: 0.15, skill: 0.45, solution: 0.2, feedback: 0.05, memory: 0.15 },
  distractors: [0.4, 0.3, 0.3],
  feedbackWithSkill: 0.3,
  foreign: 0.85,
  memory: { solved: 0.8, behaviors: 0.5, budget: 112 },
  workingDrill: 0.5
}

/**
 * The science-domain base recipe: the code recipe's model and optimiser. Domain knobs (README, "Science
 * base"): the skill spells out the family's table (so a foreign family is solvable by reading the hint),
 * the options are shown as slots (the letter of property p at offset p: a lookup the model learns, where
 * finding it by content stayed at chance), and a cue right only 40% of the time, so memory-free the family is often unknown and the hint carries it
 * (README: G, cue 0.65, gained +9.4 held-out, H, cue 0.4, +15.6).
 */
export const scienceRecipe: WarmupRecipe = {
  ...codeRecipe,
  domain: { name: "science", seed: 0, config: { skillTable: true, optionLayout: "slots", cueAccuracy: 0.4 } },
  mixture: scienceMixture,
  steps: SCIENCE_STEPS,
  schedule: { ...codeRecipe.schedule, totalSteps: SCIENCE_STEPS }
}

const BOOTSTRAP_STEPS = 400

/**
 * The bootstrapped stage of `base: "bootstrapped"` runs (base.ts bootstrappedRecipe; issue #13): two rounds
 * of 4 memory-free samples per problem at temperature 1 through a keeper with the runs' memory settings at
 * level EIB, then 400 steps in which 40% of the visits read that memory, half of them with behaviors.
 */
export const bootstrapStage: BootstrapStage = {
  rounds: 2,
  samples: 4,
  temperature: 1,
  memory: { ...defaultConfig.memory, levels: "EIB" },
  steps: BOOTSTRAP_STEPS,
  batchSize: 48,
  schedule: { lr: 1e-3, warmupSteps: 20, decay: "cosine", totalSteps: BOOTSTRAP_STEPS, minLr: 2e-4 },
  share: 0.4,
  behaviors: 0.5
}

/** The recipe the code holds for each domain. */
export const RECIPES: Partial<Record<DomainName, WarmupRecipe>> = { code: codeRecipe, science: scienceRecipe }

export const recipeHash = (recipe: WarmupRecipe): string => hashValue(recipe)

/** The mixture weights at 1-based step `step` of `total` (linear from start to end). */
export const mixtureAt = (m: Mixture, step: number, total: number): MixtureWeights => {
  const f = total <= 1 ? 1 : Math.min(1, Math.max(0, (step - 1) / (total - 1)))
  const lerp = (a: number, b: number): number => a + (b - a) * f
  const w = {
    none: lerp(m.start.none, m.end.none),
    skill: lerp(m.start.skill, m.end.skill),
    solution: lerp(m.start.solution, m.end.solution),
    feedback: lerp(m.start.feedback, m.end.feedback)
  }
  return m.start.memory === undefined && m.end.memory === undefined ? w : { ...w, memory: lerp(m.start.memory ?? 0, m.end.memory ?? 0) }
}
