/**
 * The consolidator's logic: cluster problems, abstract each cluster's insights into candidate
 * behaviors, then decide explicit edits to the bank (PMD §3, U_beh; run every K steps, the caller
 * decides when).
 *
 * Decide (retrieve-then-decide; with an empty bank this is the cold start, every candidate is `new`):
 * 1. remove: behaviors hit by the Memp deprecation rule (retired: never re-created), and behaviors
 *    whose pattern is now contradicted by the insight evidence (abstract.ts);
 * 2. for each candidate (clusters by key, candidates by rank): retrieve the most similar stored
 *    behavior by content embedding (ties: smallest id); at cosine >= `dupThreshold`, same kind:
 *    `update` it (problem ids and provenance united, support = |problem ids|, key recomputed); other
 *    kind: conflict, the stored one wins; else the candidate is a `new` proposal;
 * 3. proposals by support (desc, then id) are re-checked against the bank (an earlier proposal may now
 *    be a near-duplicate: then it is an update) and admitted while the bank holds fewer than
 *    `capacity`; when full, one replaces the weakest behavior (lowest support, then largest id) if its
 *    support is strictly higher (`remove` capacity + `new`), else it is dropped.
 * Guarantees (test/memory/consolidate.test.ts): size <= capacity; idempotent (running twice on the same
 * input = once, the second run emits no edit); independent of the arrival order of problems and
 * insights; no two behaviors with content cosine >= dupThreshold; support / hits / successes never
 * decrease for a surviving id; provenance only grows, and every removed behavior is returned in an edit.
 */
import { compareStrings } from "../../core/Order.ts"
import type { Embedder } from "../embed/hashEmbed.ts"
import { dot, meanDirection } from "../embed/vec.ts"
import type { ProblemInsights } from "../insight/insights.ts"
import { checkPositiveInt, checkUnit, mergeSources, sortedDistinct, unionSorted, type WriteContext } from "../types.ts"
import { abstractCluster, type AbstractConfig, type Candidate, collectEvidence, contradicted, defaultAbstractConfig } from "./abstract.ts"
import { type Behavior, type BehaviorBank, type BehaviorEdit, behaviorId, contentKey, contentVector, isDeprecated } from "./behavior.ts"
import { type ClusterConfig, clusterProblems, type Clustering, defaultClusterConfig } from "./cluster.ts"

export interface ConsolidateConfig {
  readonly capacity: number
  readonly dupThreshold: number
  readonly cluster: ClusterConfig
  readonly abstract: AbstractConfig
  readonly deprecateMinHits: number
  readonly deprecateMinRate: number
}

export const defaultConsolidateConfig: ConsolidateConfig = {
  capacity: 500, dupThreshold: 0.9, cluster: defaultClusterConfig, abstract: defaultAbstractConfig,
  deprecateMinHits: 3, deprecateMinRate: 0.5
}

export interface ConsolidateInput {
  /** Training problems with their (fixed) embeddings. */
  readonly problems: ReadonlyArray<{ readonly id: string; readonly vec: Float32Array }>
  readonly insights: ReadonlyArray<ProblemInsights>
  readonly bank: BehaviorBank
  readonly ctx: WriteContext
}

export interface ConsolidateResult {
  readonly bank: BehaviorBank
  readonly edits: ReadonlyArray<BehaviorEdit>
  readonly clustering: Clustering
  readonly candidates: number
}

export const consolidate = (input: ConsolidateInput, embed: Embedder, config: ConsolidateConfig = defaultConsolidateConfig): ConsolidateResult => {
  checkPositiveInt("capacity", config.capacity)
  checkUnit("dupThreshold", config.dupThreshold)
  const { ctx } = input
  const clustering = clusterProblems(input.problems, config.cluster)
  const vecOf = new Map(input.problems.map((p) => [p.id, p.vec]))
  const dim = input.problems[0]?.vec.length ?? 0
  const keyOf = (ids: ReadonlyArray<string>) => meanDirection(ids.flatMap((id) => vecOf.get(id) ?? []), dim)
  const insightsOf = new Map<string, ProblemInsights>()
  for (const p of input.insights) if (vecOf.has(p.problemId)) insightsOf.set(p.problemId, p)
  const ev = collectEvidence([...insightsOf.values()], config.abstract)
  const candidates: Array<Candidate> = []
  for (const c of clustering.clusters) {
    const members = c.members.flatMap((id) => insightsOf.get(id) ?? [])
    candidates.push(...abstractCluster(c.key, members, ev, config.abstract))
  }

  const edits: Array<BehaviorEdit> = []
  const bank = new Map<string, Behavior>()
  const vecs = new Map<string, Float32Array>()
  const retired = new Set(input.bank.retired)
  for (const b of [...input.bank.behaviors].sort((x, y) => compareStrings(x.id, y.id))) {
    if (isDeprecated(b, config.deprecateMinHits, config.deprecateMinRate)) {
      edits.push({ op: "remove", behavior: b, reason: "deprecated" })
      retired.add(contentKey(b.kind, b.tokens))
    } else if (contradicted(b.kind, b.tokens, ev)) {
      edits.push({ op: "remove", behavior: b, reason: "contradicted" })
    } else {
      bank.set(b.id, b)
      vecs.set(b.id, contentVector(embed, b.kind, b.tokens))
    }
  }
  const mostSimilar = (kind: Candidate["kind"], tokens: ReadonlyArray<number>, v: Float32Array) => {
    const same = bank.get(behaviorId(kind, tokens))
    if (same) return { b: same, sim: 1 }
    let b: Behavior | undefined
    let sim = -Infinity
    for (const [id, u] of vecs) {
      const s = dot(u, v)
      if (s > sim || (s === sim && b !== undefined && compareStrings(id, b.id) < 0)) {
        sim = s
        b = bank.get(id)
      }
    }
    return { b, sim }
  }
  const update = (b: Behavior, c: Candidate) => {
    const problemIds = unionSorted(b.problemIds, c.problemIds)
    const rolloutIds = unionSorted(b.sources.rolloutIds, c.rolloutIds)
    if (problemIds.length === b.problemIds.length && rolloutIds.length === b.sources.rolloutIds.length) return
    const after: Behavior = {
      ...b, problemIds, support: problemIds.length, key: keyOf(problemIds),
      sources: mergeSources({ ...b.sources, rolloutIds }, { rolloutIds, policyVersion: ctx.policyVersion, step: ctx.step })
    }
    bank.set(b.id, after)
    const prev = edits.findIndex((e) => e.op === "update" && e.after.id === b.id)
    if (prev >= 0) edits[prev] = { op: "update", before: (edits[prev] as { before: Behavior }).before, after }
    else if (!edits.some((e) => e.op === "new" && e.behavior.id === b.id)) edits.push({ op: "update", before: b, after })
    else edits[edits.findIndex((e) => e.op === "new" && e.behavior.id === b.id)] = { op: "new", behavior: after }
  }
  /** Route a candidate to an update, a conflict (dropped) or a new proposal. */
  const route = (c: Candidate, v: Float32Array): boolean => {
    const { b, sim } = mostSimilar(c.kind, c.tokens, v)
    if (b !== undefined && sim >= config.dupThreshold) {
      if (b.kind === c.kind) update(b, c)
      return true
    }
    return false
  }
  const proposals: Array<{ c: Candidate; v: Float32Array; id: string }> = []
  for (const c of candidates) {
    if (retired.has(contentKey(c.kind, c.tokens))) continue
    const v = contentVector(embed, c.kind, c.tokens)
    if (!route(c, v)) proposals.push({ c, v, id: behaviorId(c.kind, c.tokens) })
  }
  proposals.sort((a, b) => b.c.problemIds.length - a.c.problemIds.length || compareStrings(a.id, b.id))
  for (const { c, v, id } of proposals) {
    if (route(c, v)) continue
    if (bank.size >= config.capacity) {
      let weakest: Behavior | undefined
      for (const b of bank.values()) {
        if (!weakest || b.support < weakest.support || (b.support === weakest.support && compareStrings(b.id, weakest.id) > 0)) weakest = b
      }
      if (!weakest || !(weakest.support < c.problemIds.length)) continue
      bank.delete(weakest.id)
      vecs.delete(weakest.id)
      const wasNew = edits.findIndex((e) => e.op === "new" && e.behavior.id === weakest.id)
      if (wasNew >= 0) edits.splice(wasNew, 1)
      else edits.push({ op: "remove", behavior: weakest, reason: "capacity" })
    }
    const behavior: Behavior = {
      id, kind: c.kind, tokens: [...c.tokens], problemIds: c.problemIds, support: c.problemIds.length,
      hits: 0, successes: 0, key: keyOf(c.problemIds), cluster: c.cluster,
      sources: { rolloutIds: c.rolloutIds, policyVersion: ctx.policyVersion, step: ctx.step }
    }
    bank.set(id, behavior)
    vecs.set(id, v)
    edits.push({ op: "new", behavior })
  }
  const behaviors = [...bank.values()].sort((a, b) => compareStrings(a.id, b.id))
  return { bank: { behaviors, retired: sortedDistinct(retired) }, edits, clustering, candidates: candidates.length }
}
