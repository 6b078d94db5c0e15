/**
 * The three memory updates of one PMD step on a whole MemoryState (Eqs. 1-3):
 * experience (every batch), reflection (problems of the batch), consolidation (every K steps).
 * Problems are processed in id order; untouched problems keep their records by reference, and each
 * update returns what it `touched`, so `VersionedMemory.commit(state, ctx, label, touched)` costs
 * O(change) even with 100k problems in memory.
 */
import { compareStrings } from "../core/Order.ts"
import { type ConsolidateConfig, type ConsolidateResult, consolidate, defaultConsolidateConfig } from "./behavior/consolidate.ts"
import type { Embedder } from "./embed/hashEmbed.ts"
import { type Attempt, defaultExperienceConfig, emptyExperience, type ExperienceConfig, type ExperienceUpdate, updateExperience } from "./experience/experience.ts"
import { defaultInsightConfig, emptyInsights, type InsightConfig, type InsightUpdate, updateInsights } from "./insight/insights.ts"
import { defaultReflectConfig, reflect, type ReflectConfig } from "./insight/reflect.ts"
import { type MemoryState, type Touched, withRecords } from "./state.ts"
import { MemoryInputError, type WriteContext } from "./types.ts"

export interface RolloutGroup {
  readonly problemId: string
  readonly attempts: ReadonlyArray<Attempt>
}

export const recordRollouts = (
  state: MemoryState, groups: ReadonlyArray<RolloutGroup>, embed: Embedder, config: ExperienceConfig = defaultExperienceConfig
): { state: MemoryState; updates: Array<ExperienceUpdate>; touched: Touched } => {
  const sorted = [...groups].sort((a, b) => compareStrings(a.problemId, b.problemId))
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.problemId === sorted[i - 1]!.problemId) throw new MemoryInputError(`problem ${sorted[i]!.problemId} appears twice in one batch`)
  }
  const updates = sorted.map((g) => updateExperience(state.experience.get(g.problemId) ?? emptyExperience(g.problemId), g.attempts, embed, config))
  return { state: { ...state, experience: withRecords(state.experience, updates.map((u) => [u.next.problemId, u.next] as const)) }, updates, touched: { experience: sorted.map((g) => g.problemId) } }
}

export interface ReflectOptions {
  readonly reflect?: ReflectConfig
  readonly insight?: InsightConfig
}

export const reflectProblems = (
  state: MemoryState, problemIds: ReadonlyArray<string>, embed: Embedder, ctx: WriteContext, opts: ReflectOptions = {}
): { state: MemoryState; updates: Array<InsightUpdate>; touched: Touched } => {
  const updates: Array<InsightUpdate> = []
  for (const id of [...new Set(problemIds)].sort(compareStrings)) {
    const exp = state.experience.get(id)
    if (!exp) continue
    const cands = reflect(exp, ctx, opts.reflect ?? defaultReflectConfig)
    if (cands.length === 0) continue
    updates.push(updateInsights(state.insights.get(id) ?? emptyInsights(id), cands, embed, opts.insight ?? defaultInsightConfig))
  }
  const changed = updates.filter((u) => u.added.length + u.merged.length > 0)
  return { state: { ...state, insights: withRecords(state.insights, changed.map((u) => [u.next.problemId, u.next] as const)) }, updates, touched: { insights: changed.map((u) => u.next.problemId) } }
}

export const consolidateMemory = (
  state: MemoryState, problems: ReadonlyArray<{ readonly id: string; readonly vec: Float32Array }>, embed: Embedder, ctx: WriteContext,
  config: ConsolidateConfig = defaultConsolidateConfig
): { state: MemoryState; result: ConsolidateResult; touched: Touched } => {
  const result = consolidate({ problems, insights: [...state.insights.values()], bank: state.bank, ctx }, embed, config)
  return { state: result.edits.length === 0 && result.bank.retired.length === state.bank.retired.length ? state : { ...state, bank: result.bank }, result, touched: { bank: true } }
}
