/**
 * The consolidator's logic: cluster problems, abstract each cluster's insights into candidate
 * behaviors, then decide explicit edits to the bank (PMD §3, U_beh; run every K steps, the caller
 * decides when).
 *
 * Decide (retrieve-then-decide; with an empty bank this is the cold start, every proposal is `new`):
 * 1. remove: behaviors hit by the Memp deprecation rule (retired: never re-created), and behaviors
 *    whose pattern is now contradicted by the insight evidence (abstract.ts);
 * 2. candidates with equal content (found in several clusters) become one proposal;
 * 3. decide rounds (decideRound below): a proposal with no near-duplicate (content cosine >=
 *    `dupThreshold`, any kind) in the bank becomes a `new` behavior; every proposal is then retrieved
 *    against the bank and assigned to its most similar behavior of its kind (ties: smallest id), which
 *    absorbs its problems and provenance (`update`; support = |problem ids|, key recomputed); a
 *    proposal whose only near-duplicates are of the other kind is a conflict, the stored one wins;
 *    then the bank keeps its `capacity` best behaviors by support (ties: smaller id; `remove`
 *    capacity). Rounds repeat until nothing changes (at most 4), which makes the decision a fixpoint;
 * 4. the edits are the difference between the input bank and the result.
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
import { type Behavior, type BehaviorBank, type BehaviorEdit, behaviorId, contentKey, contentVector, isDeprecated, type RemoveReason } from "./behavior.ts"
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

  // 1. removals: deprecated (retired for good) and contradicted behaviors
  const reasons = new Map<string, RemoveReason>()
  const retired = new Set(input.bank.retired)
  let bank = new Map<string, Behavior>()
  for (const b of [...input.bank.behaviors].sort((x, y) => compareStrings(x.id, y.id))) {
    if (isDeprecated(b, config.deprecateMinHits, config.deprecateMinRate)) {
      reasons.set(b.id, "deprecated")
      retired.add(contentKey(b.kind, b.tokens))
    } else if (contradicted(b.kind, b.tokens, ev, config.abstract.avoidContradiction)) reasons.set(b.id, "contradicted")
    else bank.set(b.id, b)
  }
  // 2. one proposal per distinct content (a pattern found in several clusters is one proposal)
  const merged = new Map<string, Proposal>()
  for (const c of candidates) {
    if (retired.has(contentKey(c.kind, c.tokens))) continue
    const id = behaviorId(c.kind, c.tokens)
    const m = merged.get(id)
    if (m) merged.set(id, { ...m, problemIds: unionSorted(m.problemIds, c.problemIds), rolloutIds: unionSorted(m.rolloutIds, c.rolloutIds), cluster: compareStrings(c.cluster, m.cluster) < 0 ? c.cluster : m.cluster })
    else merged.set(id, { ...c, id, v: contentVector(embed, c.kind, c.tokens) })
  }
  const proposals = [...merged.values()].sort((a, b) => b.problemIds.length - a.problemIds.length || compareStrings(a.id, b.id))
  const vecCache = new Map<string, Float32Array>()
  const vecOfBehavior = (b: Behavior) => {
    let v = vecCache.get(b.id)
    if (!v) vecCache.set(b.id, (v = contentVector(embed, b.kind, b.tokens)))
    return v
  }
  for (const p of proposals) vecCache.set(p.id, p.v)
  // 3. decide rounds, iterated to a fixpoint so that consolidating twice equals consolidating once
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const next = decideRound(bank, proposals, vecOfBehavior, keyOf, ctx, config)
    const same = next.size === bank.size && [...next].every(([id, b]) => bank.get(id) === b)
    bank = next
    if (same) break
  }
  // 4. edits = the difference between the input bank and the result
  const edits: Array<BehaviorEdit> = []
  for (const b of [...input.bank.behaviors].sort((x, y) => compareStrings(x.id, y.id))) {
    const now = bank.get(b.id)
    if (!now) edits.push({ op: "remove", behavior: b, reason: reasons.get(b.id) ?? "capacity" })
    else if (now !== b) edits.push({ op: "update", before: b, after: now })
  }
  const before = new Set(input.bank.behaviors.map((b) => b.id))
  for (const b of [...bank.values()].sort((x, y) => compareStrings(x.id, y.id))) if (!before.has(b.id)) edits.push({ op: "new", behavior: b })
  const behaviors = [...bank.values()].sort((a, b) => compareStrings(a.id, b.id))
  return { bank: { behaviors, retired: sortedDistinct(retired) }, edits, clustering, candidates: candidates.length }
}

const MAX_ROUNDS = 4

interface Proposal extends Candidate {
  readonly id: string
  readonly v: Float32Array
}

/**
 * One decide round over the bank: (a) each proposal not covered by a near-duplicate (any kind) in the
 * bank or among earlier proposals becomes a new behavior; (b) every proposal is assigned to its most
 * similar behavior of the same kind at cosine >= dupThreshold (its own id first), whose problem ids and
 * provenance absorb it; (c) the bank is cut to capacity, keeping the highest support (ties: smaller id).
 * Assignment runs against the final set of (a), so re-running a round on its own output is a no-op.
 */
const decideRound = (
  bank: ReadonlyMap<string, Behavior>, proposals: ReadonlyArray<Proposal>, vecOf: (b: Behavior) => Float32Array,
  keyOf: (ids: ReadonlyArray<string>) => Float32Array, ctx: WriteContext, config: ConsolidateConfig
): Map<string, Behavior> => {
  const pool = new Map(bank)
  const nearest = (p: Proposal, sameKind: boolean): { b: Behavior | undefined; sim: number } => {
    const self = pool.get(p.id)
    if (self) return { b: self, sim: 1 }
    let b: Behavior | undefined
    let sim = -Infinity
    for (const x of pool.values()) {
      if (sameKind && x.kind !== p.kind) continue
      const s = dot(vecOf(x), p.v)
      if (s > sim || (s === sim && b !== undefined && compareStrings(x.id, b.id) < 0)) {
        sim = s
        b = x
      }
    }
    return { b, sim }
  }
  for (const p of proposals) {
    if (nearest(p, false).sim >= config.dupThreshold) continue
    pool.set(p.id, {
      id: p.id, kind: p.kind, tokens: [...p.tokens], problemIds: p.problemIds, support: p.problemIds.length,
      hits: 0, successes: 0, key: keyOf(p.problemIds), cluster: p.cluster,
      sources: { rolloutIds: p.rolloutIds, policyVersion: ctx.policyVersion, step: ctx.step }
    })
  }
  const absorbed = new Map<string, { problemIds: ReadonlyArray<string>; rolloutIds: ReadonlyArray<string> }>()
  for (const p of proposals) {
    const { b, sim } = nearest(p, true)
    if (b === undefined || sim < config.dupThreshold) continue
    const a = absorbed.get(b.id) ?? { problemIds: b.problemIds, rolloutIds: b.sources.rolloutIds }
    absorbed.set(b.id, { problemIds: unionSorted(a.problemIds, p.problemIds), rolloutIds: unionSorted(a.rolloutIds, p.rolloutIds) })
  }
  for (const [id, a] of absorbed) {
    const b = pool.get(id)!
    if (a.problemIds.length === b.problemIds.length && a.rolloutIds.length === b.sources.rolloutIds.length) continue
    pool.set(id, {
      ...b, problemIds: a.problemIds, support: a.problemIds.length, key: keyOf(a.problemIds),
      sources: mergeSources({ ...b.sources, rolloutIds: a.rolloutIds }, { rolloutIds: a.rolloutIds, policyVersion: ctx.policyVersion, step: ctx.step })
    })
  }
  if (pool.size <= config.capacity) return pool
  const kept = [...pool.values()].sort((a, b) => b.support - a.support || compareStrings(a.id, b.id)).slice(0, config.capacity)
  return new Map(kept.map((b) => [b.id, b]))
}
