/**
 * Top-K behavior retrieval for a problem (PMD §3 step 5: dense retrieval, cosine, K = 3).
 *
 * The query is the problem's embedding; a behavior's key is the mean embedding of the problems it was
 * abstracted from (behavior.ts). Departure from the paper: PMD embeds behavior *text* and question text
 * with one text embedder; token patterns and prompts live in different "modalities" here, so a
 * behavior is found through the problems that produced it. Exact below a size threshold, HNSW above
 * (vectorIndex.ts). Build the index once per bank version (`behaviorIndex`) and reuse it.
 */
import type { Behavior, BehaviorBank } from "../behavior/behavior.ts"
import { buildIndex, defaultIndexConfig, type IndexConfig, type VectorIndex } from "./vectorIndex.ts"

export interface BehaviorIndex {
  readonly index: VectorIndex
  readonly byId: ReadonlyMap<string, Behavior>
}

export const behaviorIndex = (bank: BehaviorBank, config: IndexConfig = defaultIndexConfig): BehaviorIndex => ({
  index: buildIndex(bank.behaviors.map((b) => ({ id: b.id, vec: b.key })), config),
  byId: new Map(bank.behaviors.map((b) => [b.id, b]))
})

export interface Retrieved {
  readonly behavior: Behavior
  readonly score: number
}

/** The K behaviors most similar to the query (score desc, ties by id). Deterministic. */
export const retrieveBehaviors = (idx: BehaviorIndex, query: Float32Array, k = 3, minScore = -Infinity): Array<Retrieved> =>
  idx.index.search(query, k).filter((s) => s.score >= minScore).map((s) => ({ behavior: idx.byId.get(s.id)!, score: s.score }))
