/**
 * Calibration of a base model (ARCHITECTURE.md §9.3): greedy (optionally also sampled) pass rates under
 * the eval protocol (all hidden tests), on the train split (same problems: internalization) and the
 * held-out split (transfer), in four contexts that share one prompt per problem:
 * - none:     memory-free;
 * - skill:    `[BEH] own cluster skill [END]`;
 * - skillTop3: the own skill among 2 skills of other clusters (what top-3 retrieval gives the teacher);
 * - solution: `[SOL] reference solution [END]`;
 * - memory:   the problem's full synthetic memory at levels EIB with a success (memoryContext.ts):
 *             [STRAT] [LESSON] [BEH] around the [SOL], the layout PMD's teacher reads.
 * Targets (code): none 10-35%, skill >= none + 15 points, solution and memory >= ~90%.
 */
import { defaultConfig } from "../../config/presets.ts"
import { Rng } from "../../core/Rng.ts"
import { block, withBlocks } from "../../domains/context.ts"
import { Control } from "../../domains/control.ts"
import type { Domain, ProblemBase, Split } from "../../domains/Domain.ts"
import { type ModelConfig, type Params, sample } from "../../numeric/index.ts"
import { body, examplePool, skillItems, skillList } from "./examples.ts"
import { memoryContext } from "./memoryContext.ts"

export type CalibrationContext = "none" | "skill" | "skillTop3" | "solution" | "memory"
export const CALIBRATION_CONTEXTS: ReadonlyArray<CalibrationContext> = ["none", "skill", "skillTop3", "solution", "memory"]

/**
 * The memory context of calibration: a success is always there (so the answer is in context), behaviors
 * too, within the teacher's default budget.
 */
const CALIBRATION_MEMORY = { solved: 1, behaviors: 1, budget: defaultConfig.memory.contextTokensMax } as const

export interface CalibrateOptions {
  readonly splits?: ReadonlyArray<Split>
  /** Evaluate at most this many problems per split, spread evenly over the id order (all clusters). */
  readonly maxProblems?: number
  /** Also sample `samples` responses per problem at `temperature` (pass@1 averaged over samples). */
  readonly sampled?: { readonly temperature: number; readonly samples: number }
  readonly seed?: number
  readonly batchSize?: number
}

export interface PassRates {
  readonly problems: number
  readonly greedy: Readonly<Record<CalibrationContext, number>>
  readonly sampled?: Readonly<Record<CalibrationContext, number>>
}

export type Calibration = Partial<Record<Split, PassRates>>

/** `n` problems spread evenly over `xs` (all of them if n >= length). */
export const spread = <A>(xs: ReadonlyArray<A>, n: number | undefined): Array<A> => {
  if (n === undefined || n >= xs.length) return [...xs]
  return Array.from({ length: n }, (_, i) => xs[Math.floor((i * xs.length) / n)]!)
}

interface Row {
  readonly problem: ProblemBase
  readonly context: CalibrationContext
  readonly tokens: Array<number>
  readonly rng: Rng
}

const passRate = <P extends ProblemBase>(
  params: Params, cfg: ModelConfig, domain: Domain<P>, rows: ReadonlyArray<Row>, temperature: number, batchSize: number
): Record<CalibrationContext, number> => {
  const solved: Record<CalibrationContext, number> = { none: 0, skill: 0, skillTop3: 0, solution: 0, memory: 0 }
  const count: Record<CalibrationContext, number> = { none: 0, skill: 0, skillTop3: 0, solution: 0, memory: 0 }
  for (let i = 0; i < rows.length; i += batchSize) {
    const chunk = rows.slice(i, i + batchSize)
    const out = sample(params, cfg, chunk.map((r) => ({ prompt: r.tokens, rng: r.rng })), {
      temperature, maxNewTokens: domain.maxResponseTokens, stopTokens: [Control.EOS], bannedTokens: [Control.PAD]
    })
    chunk.forEach((r, j) => {
      count[r.context]++
      if (domain.verify(r.problem as P, out[j]!.tokens, "eval").solved) solved[r.context]++
    })
  }
  const rate = (c: CalibrationContext): number => (count[c] === 0 ? 0 : solved[c] / count[c])
  return { none: rate("none"), skill: rate("skill"), skillTop3: rate("skillTop3"), solution: rate("solution"), memory: rate("memory") }
}

/** Pass rates of `params` on `domain` (see the module doc). Pure given its inputs. */
export const calibrate = <P extends ProblemBase>(params: Params, cfg: ModelConfig, domain: Domain<P>, options: CalibrateOptions = {}): Calibration => {
  const pool = examplePool(domain)
  const root = Rng.root(options.seed ?? 0).fork("calibrate")
  const batchSize = options.batchSize ?? 64
  const out: Calibration = {}
  for (const split of options.splits ?? (["train", "heldout"] as const)) {
    const problems = spread(domain.problems(split), options.maxProblems)
    const rowsFor = (samples: number): Array<Row> =>
      problems.flatMap((p) => {
        const prompt = domain.prompt(p, root.fork("prompt", p.id))
        const ctx: Record<CalibrationContext, Array<number>> = {
          none: prompt,
          skill: withBlocks(prompt, block(Control.BEH, domain.skill(p))),
          skillTop3: withBlocks(prompt, block(Control.BEH, skillItems(pool, p, 2, root.fork("distractors", p.id)))),
          solution: withBlocks(prompt, block(Control.SOL, body(domain.solution(p)))),
          memory: memoryContext(pool, p, prompt, CALIBRATION_MEMORY, (n) => skillList(pool, p, n, root.fork("distractors", p.id)), root.fork("memory", p.id))
        }
        return CALIBRATION_CONTEXTS.flatMap((c) =>
          Array.from({ length: samples }, (_, k) => ({ problem: p, context: c, tokens: ctx[c], rng: root.fork("sample", p.id, c, k) })))
      })
    const greedy = passRate(params, cfg, domain, rowsFor(1), 0, batchSize)
    const sampled = options.sampled === undefined
      ? undefined
      : passRate(params, cfg, domain, rowsFor(options.sampled.samples), options.sampled.temperature, batchSize)
    out[split] = sampled === undefined ? { problems: problems.length, greedy } : { problems: problems.length, greedy, sampled }
  }
  return out
}
