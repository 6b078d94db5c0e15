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
 *
 * Lineage (`itemIds`): the ids of the memory items that made it into the context, for the run's
 * lineage.jsonl. Experience items are named by their id (= the rollout id), insights by theirs, behaviors
 * by theirs, or, for a view's behavior that carries none, by its content id (behaviorId(kind, tokens)). A
 * sibling solution or the rollout's own feedback passed in `opts` is no memory item and has no id. The
 * ids never change the tokens.
 */
import { compareStrings } from "../../core/Order.ts"
import { block, joinItems, withBlocks } from "../../domains/context.ts"
import { Control } from "../../domains/control.ts"
import { type Behavior, behaviorId } from "../behavior/behavior.ts"
import type { ExperienceItem, ProblemExperience } from "../experience/experience.ts"
import type { Insight, ProblemInsights } from "../insight/insights.ts"
import { MemoryInputError } from "../types.ts"

export type MemoryLevels = "none" | "E" | "EI" | "EIB"
export type BlockName = "STRAT" | "LESSON" | "BEH" | "SOL" | "FB"

export interface MemoryView {
  readonly experience?: ProblemExperience
  readonly insights?: ProblemInsights
  /** Already retrieved (top-K), in retrieval order. Only kind and tokens are rendered; `id` names it in the lineage. */
  readonly behaviors?: ReadonlyArray<Pick<Behavior, "kind" | "tokens"> & { readonly id?: string }>
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
  /** Ids of the memory items rendered, in block order (see the header: lineage only). */
  readonly itemIds: Array<string>
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

interface Item {
  readonly tokens: Array<number>
  readonly id: string | null
}

export const compose = (view: MemoryView, problem: { readonly prompt: ReadonlyArray<number> }, opts: ComposeOptions): Composed => {
  const lv = opts.levels
  if (!["none", "E", "EI", "EIB"].includes(lv)) throw new MemoryInputError(`unknown memory levels ${String(lv)}`)
  if (problem.prompt[problem.prompt.length - 1] !== Control.ANS) throw new MemoryInputError("compose: a prompt must end with [ANS]")
  if (problem.prompt.length > opts.budget) throw new BudgetError(`prompt of ${problem.prompt.length} tokens exceeds the budget ${opts.budget}`)
  // each item with the id of the memory item it renders (null: from `opts`, not from memory)
  const items: Record<BlockName, Array<Item>> = { STRAT: [], LESSON: [], BEH: [], SOL: [], FB: [] }
  const exp = lv === "none" ? undefined : view.experience
  const stored = exp && opts.solution === undefined ? bestSolution(exp.successes) : undefined
  const sol = opts.solution ?? stored?.response
  if (sol) items.SOL.push({ tokens: body(sol), id: stored?.id ?? null })
  const storedFb = exp && opts.feedback === undefined ? latestFailure(exp.failures) : undefined
  const fb = opts.feedback ?? storedFb?.feedback
  if (fb && feedbackBody(fb).length > 0) items.FB.push({ tokens: feedbackBody(fb), id: storedFb?.id ?? null })
  if ((lv === "EI" || lv === "EIB") && view.insights) {
    for (const s of rankInsights(view.insights.strategies).slice(0, opts.maxStrategies ?? 3)) items.STRAT.push({ tokens: [...s.tokens], id: s.id })
    for (const l of rankInsights(view.insights.lessons).slice(0, opts.maxLessons ?? 3)) {
      items.LESSON.push({ tokens: [Control.AVOID, ...l.tokens, ...feedbackBody(l.feedback)], id: l.id })
    }
  }
  if (lv === "EIB" && view.behaviors) {
    for (const b of view.behaviors.slice(0, opts.maxBehaviors ?? 3)) {
      items.BEH.push({ tokens: b.kind === "avoid" ? [Control.AVOID, ...b.tokens] : [...b.tokens], id: b.id ?? behaviorId(b.kind, b.tokens) })
    }
  }
  let used = problem.prompt.length
  let dropped = 0
  const kept: Record<BlockName, Array<Item>> = { STRAT: [], LESSON: [], BEH: [], SOL: [], FB: [] }
  for (const name of opts.priority ?? DEFAULT_PRIORITY) {
    for (const it of items[name]) {
      const cost = it.tokens.length + (kept[name].length === 0 ? 2 : 1)
      if (used + cost <= opts.budget) {
        kept[name].push(it)
        used += cost
      } else dropped++
    }
  }
  for (const name of ORDER) if (!(opts.priority ?? DEFAULT_PRIORITY).includes(name)) dropped += items[name].length
  const blocks = ORDER.flatMap((name) => (kept[name].length === 0 ? [] : block(OPEN[name], joinItems(kept[name].map((it) => it.tokens)))))
  const tokens = withBlocks(problem.prompt, blocks)
  const counts = { STRAT: kept.STRAT.length, LESSON: kept.LESSON.length, BEH: kept.BEH.length, SOL: kept.SOL.length, FB: kept.FB.length }
  const itemIds = ORDER.flatMap((name) => kept[name].flatMap((it) => (it.id === null ? [] : [it.id])))
  return { tokens, blocks, counts, dropped, itemIds }
}
