/**
 * The teacher's context for each rollout (pure): the student's prompt with blocks before its [ANS].
 *
 * SDPO (LAS defaults, algorithms.md §2a): a successful sibling from the same group (never the rollout
 * itself when `dontRepromptOnSelfSuccess`), else the rollout's own verifier feedback when
 * `includeFeedback` (feedback only without a solution); no context => mask 0 (no distillation signal).
 * PMD (§1a step 5): the same current-batch context g_i plus the problem's memory m_i (experience,
 * insights, top-K behaviors, by the configured levels), read from the memory version the teacher was
 * given. Our choice where the paper is silent: a rollout whose context has any block gets mask 1, so
 * persistent memory can teach even when no sibling succeeded (ARCHITECTURE.md §9.1); with
 * `teacherNeedsSolution` only contexts that show a solution (sibling or stored) do; with
 * `teachSolvedGroups: false` no rollout of a group with a success this step has a teacher (GRPO alone
 * teaches it), so distillation acts only on groups where nothing succeeded.
 *
 * Lineage: each context also names the memory items it rendered (`refs`, compose's `itemIds`: stored
 * experience, insight and behavior ids); a masked context shows the teacher nothing, so its list is empty.
 * Never hashed, never part of the tokens.
 */
import { compose, type MemoryLevels, type MemoryView } from "../../src/memory/retrieval/compose.ts"
import type { ContextKind, TeachItem } from "../../src/protocol/teacher.ts"

/** A rollout to teach and what its context rests on are the teacher protocol's records (data). */
export { type ContextKind, contextKinds, type TeachItem } from "../../src/protocol/teacher.ts"

export interface ContextOptions {
  readonly levels: MemoryLevels
  readonly budget: number
  readonly successThreshold: number
  readonly includeFeedback: boolean
  readonly dontRepromptOnSelfSuccess: boolean
  /** mask out every context that shows no solution (sibling or stored); absent = false */
  readonly teacherNeedsSolution?: boolean
  /** false: mask every rollout of a group in which some rollout succeeded; absent = true */
  readonly teachSolvedGroups?: boolean
}

export interface TeacherContext {
  readonly rolloutId: string
  /** null = no extra context: the rollout is masked out of distillation */
  readonly context: ReadonlyArray<number> | null
  readonly kind: ContextKind
  /** ids of the memory items in the context (empty when masked or without memory) */
  readonly refs: ReadonlyArray<string>
}

/** Contexts for all items; `viewOf(problemId)` gives the memory view (ignored at levels "none"). */
export const teacherContexts = (
  items: ReadonlyArray<TeachItem>,
  viewOf: (problemId: string) => MemoryView,
  opts: ContextOptions
): Array<TeacherContext> => {
  const groups = new Map<string, Array<TeachItem>>()
  for (const it of items) groups.set(it.problemId, [...(groups.get(it.problemId) ?? []), it])
  return items.map((it) => {
    const group = [...groups.get(it.problemId)!].sort((a, b) => a.index - b.index)
    const sibling = group.find((o) => o.reward >= opts.successThreshold && !(opts.dontRepromptOnSelfSuccess && o.index === it.index))
    const ownFailed = it.reward < opts.successThreshold && it.feedback.length > 0
    const view = opts.levels === "none" ? {} : viewOf(it.problemId)
    // LAS's environment_feedback_only_without_solution, applied to stored solutions too: feedback
    // only when no solution is shown (an empty feedback suppresses the stored one)
    const hasSolution = sibling !== undefined || (view.experience?.successes.length ?? 0) > 0
    const feedback = hasSolution ? [] : opts.includeFeedback && ownFailed ? it.feedback : undefined
    const c = compose(view, { prompt: it.prompt }, {
      levels: opts.levels,
      budget: opts.budget,
      ...(sibling === undefined ? {} : { solution: sibling.response }),
      ...(feedback === undefined ? {} : { feedback })
    })
    const solvedGroup = group.some((o) => o.reward >= opts.successThreshold)
    if ((opts.teacherNeedsSolution === true && !hasSolution) || (opts.teachSolvedGroups === false && solvedGroup)) {
      return { rolloutId: it.rolloutId, context: null, kind: "none", refs: [] }
    }
    const kind: ContextKind = c.blocks.length === 0
      ? "none"
      : sibling !== undefined ? "sibling" : hasSolution ? "stored" : feedback !== undefined && feedback.length > 0 ? "feedback" : "memory"
    return { rolloutId: it.rolloutId, context: c.blocks.length === 0 ? null : c.tokens, kind, refs: c.blocks.length === 0 ? [] : c.itemIds }
  })
}
