/**
 * Insight memory: per problem, accumulated strategies and lessons (PMD §3, U_ins).
 *
 * Guarantees (test/memory/insights.test.ts):
 * - at most `maxPerKind` strategies and `maxPerKind` lessons per problem;
 * - novelty gate: a candidate whose embedding (of kind-tagged pattern tokens) has cosine >=
 *   `noveltyThreshold` with a stored insight of the same kind is not added; it is merged into the most
 *   similar one (ties: smallest id): support +1, provenance united, confidence and step updated. So
 *   nothing piles up as duplicates and no source is lost on a merge;
 * - insights accumulate across epochs and are never overwritten or removed: when a kind is full, a
 *   novel candidate is dropped (counted in `dropped`), as the paper's insight memory plateaus at its
 *   cap (Fig. 6); merges into stored insights continue, so their support keeps growing;
 * - ids are content hashes of (problem, kind, tokens): the same insight gets the same id in any run.
 * - support (number of reflections that produced the pattern) is monotone per id.
 */
import { compareStrings } from "../../core/Order.ts"
import { shortHash, hashValue } from "../../core/Hash.ts"
import type { Embedder } from "../embed/hashEmbed.ts"
import { dot } from "../embed/vec.ts"
import { checkPositiveInt, checkUnit, mergeSources, type Sources } from "../types.ts"
import type { InsightCandidate, InsightKind } from "./reflect.ts"

export interface Insight {
  readonly id: string
  readonly problemId: string
  readonly kind: InsightKind
  readonly tokens: ReadonlyArray<number>
  readonly feedback: ReadonlyArray<number>
  readonly contrastive: boolean
  readonly confidence: number
  /** Reflections that produced (or re-produced) this pattern. Monotone. */
  readonly support: number
  readonly sources: Sources
}

export interface ProblemInsights {
  readonly problemId: string
  readonly strategies: ReadonlyArray<Insight>
  readonly lessons: ReadonlyArray<Insight>
}

export interface InsightConfig {
  readonly maxPerKind: number
  readonly noveltyThreshold: number
}

export const defaultInsightConfig: InsightConfig = { maxPerKind: 10, noveltyThreshold: 0.9 }

export const emptyInsights = (problemId: string): ProblemInsights => ({ problemId, strategies: [], lessons: [] })

export const insightId = (problemId: string, kind: InsightKind, tokens: ReadonlyArray<number>): string =>
  `ins-${shortHash(hashValue([problemId, kind, tokens]))}`

/** A candidate as a new insight of `problemId` (support 1). */
export const newInsight = (problemId: string, c: InsightCandidate): Insight => ({
  id: insightId(problemId, c.kind, c.tokens), problemId, kind: c.kind,
  tokens: [...c.tokens], feedback: [...c.feedback], contrastive: c.contrastive, confidence: c.confidence,
  support: 1, sources: c.sources
})

export interface InsightUpdate {
  readonly next: ProblemInsights
  readonly added: ReadonlyArray<string>
  readonly merged: ReadonlyArray<string>
  readonly dropped: number
}

/** Kind tag token prepended before embedding, so a strategy and a lesson with equal tokens differ. */
const KIND_TAG: Record<InsightKind, number> = { strategy: 5, lesson: 6 }
export const insightVector = (embed: Embedder, kind: InsightKind, tokens: ReadonlyArray<number>): Float32Array =>
  embed([KIND_TAG[kind], ...tokens])

/** Add one reflection's candidates to a problem's insights (candidates in canonical order). */
export const updateInsights = (
  prev: ProblemInsights,
  candidates: ReadonlyArray<InsightCandidate>,
  embed: Embedder,
  config: InsightConfig = defaultInsightConfig
): InsightUpdate => {
  checkPositiveInt("maxPerKind", config.maxPerKind)
  checkUnit("noveltyThreshold", config.noveltyThreshold)
  const lists: Record<InsightKind, Array<Insight>> = { strategy: [...prev.strategies], lesson: [...prev.lessons] }
  const vecs: Record<InsightKind, Array<Float32Array>> = {
    strategy: lists.strategy.map((i) => insightVector(embed, "strategy", i.tokens)),
    lesson: lists.lesson.map((i) => insightVector(embed, "lesson", i.tokens))
  }
  const added: Array<string> = []
  const merged: Array<string> = []
  let dropped = 0
  const ordered = [...candidates].sort((a, b) => compareStrings(a.kind, b.kind) || compareStrings(a.tokens.join(","), b.tokens.join(",")))
  for (const c of ordered) {
    const list = lists[c.kind]
    const vs = vecs[c.kind]
    const v = insightVector(embed, c.kind, c.tokens)
    // an identical pattern always merges (float rounding may put its self-cosine a hair below 1)
    const id = insightId(prev.problemId, c.kind, c.tokens)
    let best = list.findIndex((x) => x.id === id)
    let bestSim = best >= 0 ? Infinity : -Infinity
    const found = best >= 0
    for (let i = 0; i < list.length && !found; i++) {
      const s = dot(vs[i]!, v)
      if (s > bestSim || (s === bestSim && compareStrings(list[i]!.id, list[best]!.id) < 0)) {
        best = i
        bestSim = s
      }
    }
    if (best >= 0 && bestSim >= config.noveltyThreshold) {
      const old = list[best]!
      list[best] = {
        ...old,
        support: old.support + 1,
        confidence: c.confidence,
        contrastive: old.contrastive || c.contrastive,
        feedback: old.feedback.length > 0 ? old.feedback : c.feedback,
        sources: mergeSources(old.sources, c.sources)
      }
      if (!merged.includes(old.id)) merged.push(old.id)
      continue
    }
    const ins = newInsight(prev.problemId, c)
    if (list.length >= config.maxPerKind) {
      dropped++
      continue
    }
    list.push(ins)
    vs.push(v)
    added.push(ins.id)
  }
  const byId = (a: Insight, b: Insight) => compareStrings(a.id, b.id)
  return {
    next: { problemId: prev.problemId, strategies: lists.strategy.sort(byId), lessons: lists.lesson.sort(byId) },
    added, merged, dropped
  }
}
