/**
 * Renders memory into the teacher's context tokens (PMD App. B.2; ARCHITECTURE §1).
 *
 * Layout (src/domains/context.ts, the one layout shared with the warm-up and the teacher):
 *   [PROB] ...problem... [STRAT] s [SEP] s [END] [LESSON] [AVOID] l fb [SEP] ... [END]
 *   [BEH] b [SEP] [AVOID] b [END] [SOL] solution [END] [FB] feedback [END] [ANS]
 * i.e. the problem, then the blocks in the paper's order, right before the prompt's final [ANS]. A block
 * with no item is left out.
 *
 * Budget: the whole context (prompt included) stays within `budget` tokens. Items are admitted whole,
 * never cut, in priority order (default: solution, feedback, strategies, lessons, behaviors), each
 * costing its tokens plus its separator and, for the first item of a block, the block's two markers.
 * If the prompt alone is over budget, BudgetError. Deterministic: items are ordered by stable keys.
 *
 * Levels (PMD Table 4): "none" (SDPO: only the current batch's sibling solution / feedback), "E"
 * (stored solution and feedback), "EI" (+ strategies and lessons), "EIB" (+ retrieved behaviors).
 * A sibling solution / feedback passed in `opts` takes the place of the stored one.
 */
import { compareStrings } from "../../core/Order.ts"
import { block, joinItems, withBlocks } from "../../domains/context.ts"
import { Control } from "../../domains/control.ts"
import type { Behavior } from "../behavior/behavior.ts"
import type { ExperienceItem, ProblemExperience } from "../experience/experience.ts"
import type { Insight, ProblemInsights } from "../insight/insights.ts"
import { MemoryInputError } from "../types.ts"

export type MemoryLevels = "none" | "E" | "EI" | "EIB"
export type BlockName = "STRAT" | "LESSON" | "BEH" | "SOL" | "FB"

export interface MemoryView {
  readonly experience?: ProblemExperience
  readonly insights?: ProblemInsights
  /** Already retrieved (top-K), in retrieval order. Only kind and tokens are rendered. */
  readonly behaviors?: ReadonlyArray<Pick<Behavior, "kind" | "tokens">>
}

export interface ComposeOptions {
  readonly levels: MemoryLevels
  readonly budget: number
  readonly maxStrategies?: number
  readonly maxLessons?: number
  readonly maxBehaviors?: number
  /** A successful sibling from the current batch (SDPO's g_i); overrides the stored solution. */
  readonly solution?: ReadonlyArray<number>
  /** Feedback on the student's own failed attempt; overrides stored feedback. */
  readonly feedback?: ReadonlyArray<number>
  readonly priority?: ReadonlyArray<BlockName>
}

export interface Composed {
  /** The teacher's context: the prompt with the memory blocks before its final [ANS]. */
  readonly tokens: Array<number>
  /** The memory blocks alone. */
  readonly blocks: Array<number>
  /** Items rendered per block. */
  readonly counts: Readonly<Record<BlockName, number>>
  /** Items left out for the budget. */
  readonly dropped: number
}

export class BudgetError extends MemoryInputError {}

const ORDER: ReadonlyArray<BlockName> = ["STRAT", "LESSON", "BEH", "SOL", "FB"]
const DEFAULT_PRIORITY: ReadonlyArray<BlockName> = ["SOL", "FB", "STRAT", "LESSON", "BEH"]
const OPEN: Record<BlockName, number> = { STRAT: Control.STRAT, LESSON: Control.LESSON, BEH: Control.BEH, SOL: Control.SOL, FB: Control.FB }

/** Feedback as stored by verifiers is a complete [FB] ... [END] block: keep its inside only. */
export const feedbackBody = (fb: ReadonlyArray<number>): Array<number> => {
  let s = 0
  let e = fb.length
  if (fb[0] === Control.FB) s = 1
  if (e > s && fb[e - 1] === Control.END) e--
  return fb.slice(s, e)
}

/** A response without its trailing [EOS] (and anything after it). */
const body = (r: ReadonlyArray<number>): Array<number> => {
  const i = r.indexOf(Control.EOS)
  return [...(i < 0 ? r : r.slice(0, i))]
}

const bestSolution = (xs: ReadonlyArray<ExperienceItem>): ExperienceItem | undefined =>
  [...xs].sort((a, b) => b.prov.reward - a.prov.reward || b.prov.step - a.prov.step || compareStrings(a.id, b.id))[0]
const latestFailure = (xs: ReadonlyArray<ExperienceItem>): ExperienceItem | undefined =>
  [...xs].filter((x) => x.feedback.length > 0).sort((a, b) => b.prov.step - a.prov.step || compareStrings(a.id, b.id))[0]
const rankInsights = (xs: ReadonlyArray<Insight>): Array<Insight> =>
  [...xs].sort((a, b) => b.support - a.support || b.confidence - a.confidence || compareStrings(a.id, b.id))

export const compose = (view: MemoryView, problem: { readonly prompt: ReadonlyArray<number> }, opts: ComposeOptions): Composed => {
  const lv = opts.levels
  if (!["none", "E", "EI", "EIB"].includes(lv)) throw new MemoryInputError(`unknown memory levels ${String(lv)}`)
  if (problem.prompt[problem.prompt.length - 1] !== Control.ANS) throw new MemoryInputError("compose: a prompt must end with [ANS]")
  if (problem.prompt.length > opts.budget) throw new BudgetError(`prompt of ${problem.prompt.length} tokens exceeds the budget ${opts.budget}`)
  const items: Record<BlockName, Array<Array<number>>> = { STRAT: [], LESSON: [], BEH: [], SOL: [], FB: [] }
  const exp = lv === "none" ? undefined : view.experience
  const sol = opts.solution ?? (exp ? bestSolution(exp.successes)?.response : undefined)
  if (sol) items.SOL.push(body(sol))
  const fb = opts.feedback ?? (exp ? latestFailure(exp.failures)?.feedback : undefined)
  if (fb && feedbackBody(fb).length > 0) items.FB.push(feedbackBody(fb))
  if ((lv === "EI" || lv === "EIB") && view.insights) {
    for (const s of rankInsights(view.insights.strategies).slice(0, opts.maxStrategies ?? 3)) items.STRAT.push([...s.tokens])
    for (const l of rankInsights(view.insights.lessons).slice(0, opts.maxLessons ?? 3)) {
      items.LESSON.push([Control.AVOID, ...l.tokens, ...feedbackBody(l.feedback)])
    }
  }
  if (lv === "EIB" && view.behaviors) {
    for (const b of view.behaviors.slice(0, opts.maxBehaviors ?? 3)) items.BEH.push(b.kind === "avoid" ? [Control.AVOID, ...b.tokens] : [...b.tokens])
  }
  let used = problem.prompt.length
  let dropped = 0
  const kept: Record<BlockName, Array<Array<number>>> = { STRAT: [], LESSON: [], BEH: [], SOL: [], FB: [] }
  for (const name of opts.priority ?? DEFAULT_PRIORITY) {
    for (const it of items[name]) {
      const cost = it.length + (kept[name].length === 0 ? 2 : 1)
      if (used + cost <= opts.budget) {
        kept[name].push(it)
        used += cost
      } else dropped++
    }
  }
  for (const name of ORDER) if (!(opts.priority ?? DEFAULT_PRIORITY).includes(name)) dropped += items[name].length
  const blocks = ORDER.flatMap((name) => (kept[name].length === 0 ? [] : block(OPEN[name], joinItems(kept[name]))))
  const tokens = withBlocks(problem.prompt, blocks)
  const counts = { STRAT: kept.STRAT.length, LESSON: kept.LESSON.length, BEH: kept.BEH.length, SOL: kept.SOL.length, FB: kept.FB.length }
  return { tokens, blocks, counts, dropped }
}
