/**
 * Memp (Fang et al., arXiv 2508.06433; zjunlp/MemP memory.py) as a baseline procedural memory:
 * one global store of (task query, procedure) items with Memp's retrieval keys and update policies.
 *
 * - Build ("direct"): an item is the rollout's response tokens (its procedure) keyed by the problem's
 *   prompt tokens (its query). No LLM rewriting: the procedure is the literal trajectory.
 * - Retrieval keys: `query` (cosine of query embeddings, threshold 0.5 as in MemP), `ave_fact` (AveFact:
 *   the prompt is split into facts at control tokens, each keyed by (control token, occurrence); score
 *   = mean cosine over the keys both sides have; threshold 0.4), `random` (a seeded sample).
 * - Update policies: `vanilla` adds every trajectory, `validation` only successes, `adjustment` adds
 *   successes and, for a failure that used an item, attaches to that item the failure's pattern at
 *   the earliest step where it diverged from the item's procedure (the stand-in for MemP's LLM rewrite).
 * - Bookkeeping (every policy): the top-1 item that was used gets hits + 1, successes + 1 on success;
 *   then items with hits >= 3 and successes / hits < 0.5 are deleted (MemP's deprecation rule).
 * - Capacity `memorySize` (MemP: 1000): when full, the oldest item (step, then id) is evicted.
 */
import { compareStrings } from "../../core/Order.ts"
import type { Rng } from "../../core/Rng.ts"
import { CONTROL_COUNT } from "../../domains/control.ts"
import { isDeprecated } from "../behavior/behavior.ts"
import type { Embedder } from "../embed/hashEmbed.ts"
import { byScoreThenId, dot, type Scored } from "../embed/vec.ts"
import { commonPrefix } from "../insight/ngrams.ts"
import { MemoryInputError, type Provenance } from "../types.ts"

export interface Fact {
  readonly key: string
  readonly vec: Float32Array
}

export interface MempItem {
  readonly id: string
  readonly problemId: string
  readonly query: ReadonlyArray<number>
  readonly procedure: ReadonlyArray<number>
  /** Patterns to avoid attached by the adjustment policy (at most 3, newest last). */
  readonly avoid: ReadonlyArray<ReadonlyArray<number>>
  readonly hits: number
  readonly successes: number
  readonly prov: Provenance
  readonly queryVec: Float32Array
  readonly facts: ReadonlyArray<Fact>
}

export interface MempStore {
  readonly items: ReadonlyArray<MempItem>
}

export type RetrieveKey = "query" | "ave_fact" | "random"
export type UpdatePolicy = "vanilla" | "validation" | "adjustment"

export interface MempConfig {
  readonly memorySize: number
  readonly queryThreshold: number
  readonly factThreshold: number
  readonly maxAvoid: number
}

export const defaultMempConfig: MempConfig = { memorySize: 1000, queryThreshold: 0.5, factThreshold: 0.4, maxAvoid: 3 }
export const emptyMemp: MempStore = { items: [] }

/** Facts of a token sequence: the runs between control tokens, keyed by (preceding control, occurrence). */
export const factsOf = (tokens: ReadonlyArray<number>, embed: Embedder): Array<Fact> => {
  const out: Array<Fact> = []
  const seen = new Map<number, number>()
  let ctrl = -1
  let run: Array<number> = []
  const flush = () => {
    if (run.length === 0) return
    const n = seen.get(ctrl) ?? 0
    seen.set(ctrl, n + 1)
    out.push({ key: `${ctrl}#${n}`, vec: embed(run) })
    run = []
  }
  for (const t of tokens) {
    if (t < CONTROL_COUNT) {
      flush()
      ctrl = t
    } else run.push(t)
  }
  flush()
  return out
}

/** AveFact: mean cosine over the fact keys both sides have (0 when they share none). */
export const aveFact = (q: ReadonlyArray<Fact>, m: ReadonlyArray<Fact>): number => {
  const mm = new Map(m.map((f) => [f.key, f.vec]))
  let sum = 0
  let n = 0
  for (const f of q) {
    const v = mm.get(f.key)
    if (v) {
      sum += dot(f.vec, v)
      n++
    }
  }
  return n === 0 ? 0 : sum / n
}

/** Top-k items for a query under one retrieval key. `rng` is used only by "random". */
export const mempRetrieve = (
  store: MempStore, query: ReadonlyArray<number>, key: RetrieveKey, k: number, embed: Embedder, rng: Rng,
  config: MempConfig = defaultMempConfig
): Array<MempItem> => {
  const byId = new Map(store.items.map((i) => [i.id, i]))
  if (key === "random") return rng.shuffle(store.items.map((i) => i.id).sort(compareStrings)).slice(0, k).map((id) => byId.get(id)!)
  let scored: Array<Scored>
  if (key === "query") {
    const q = embed(query)
    scored = store.items.map((i) => ({ id: i.id, score: dot(q, i.queryVec) })).filter((s) => s.score >= config.queryThreshold)
  } else {
    const qf = factsOf(query, embed)
    scored = store.items.map((i) => ({ id: i.id, score: aveFact(qf, i.facts) })).filter((s) => s.score >= config.factThreshold)
  }
  return scored.sort(byScoreThenId).slice(0, k).map((s) => byId.get(s.id)!)
}

export interface MempOutcome {
  readonly problemId: string
  readonly query: ReadonlyArray<number>
  readonly response: ReadonlyArray<number>
  readonly success: boolean
  readonly prov: Provenance
  /** The top-1 item the episode used, if any. */
  readonly usedId?: string
}

export interface MempUpdate {
  readonly store: MempStore
  readonly added: ReadonlyArray<string>
  readonly adjusted: ReadonlyArray<string>
  readonly removed: ReadonlyArray<MempItem>
}

/** Apply a batch of episode outcomes (canonical order: by rollout id). */
export const mempUpdate = (
  store: MempStore, outcomes: ReadonlyArray<MempOutcome>, policy: UpdatePolicy, embed: Embedder,
  config: MempConfig = defaultMempConfig
): MempUpdate => {
  const items = new Map(store.items.map((i) => [i.id, i]))
  const added: Array<string> = []
  const adjusted: Array<string> = []
  const removed: Array<MempItem> = []
  for (const o of [...outcomes].sort((a, b) => compareStrings(a.prov.rolloutId, b.prov.rolloutId))) {
    const id = `memp-${o.prov.rolloutId}`
    if (items.has(id)) throw new MemoryInputError(`memp: rollout ${o.prov.rolloutId} added twice`)
    const used = o.usedId === undefined ? undefined : items.get(o.usedId)
    if (used) {
      let next: MempItem = { ...used, hits: used.hits + 1, successes: used.successes + (o.success ? 1 : 0) }
      if (policy === "adjustment" && !o.success) {
        const d = commonPrefix(o.response, used.procedure)
        const pattern = o.response.slice(d, d + 3)
        if (pattern.length > 0) {
          next = { ...next, avoid: [...next.avoid, pattern].slice(-config.maxAvoid) }
          adjusted.push(used.id)
        }
      }
      items.set(used.id, next)
    }
    if (policy === "vanilla" || o.success) {
      items.set(id, {
        id, problemId: o.problemId, query: [...o.query], procedure: [...o.response], avoid: [], hits: 0, successes: 0,
        prov: { ...o.prov }, queryVec: embed(o.query), facts: factsOf(o.query, embed)
      })
      added.push(id)
      if (items.size > config.memorySize) {
        const oldest = [...items.values()].sort((a, b) => a.prov.step - b.prov.step || compareStrings(a.id, b.id))[0]!
        items.delete(oldest.id)
        removed.push(oldest)
      }
    }
  }
  for (const i of [...items.values()]) {
    if (isDeprecated(i)) {
      items.delete(i.id)
      removed.push(i)
    }
  }
  return { store: { items: [...items.values()].sort((a, b) => compareStrings(a.id, b.id)) }, added, adjusted, removed }
}
