/**
 * The consolidator actor: owns the behavior bank; consolidates on request (the orchestrator decides
 * when: every K steps) and serves top-K retrieval (src/memory/behavior/, src/memory/retrieval/).
 *
 * Shell on the runtime kernel (src/runtime/Actor.ts). Problem embeddings come from a fixed embedder
 * (default: the seeded hashed-n-gram embedder; pass `embedProblem`, e.g. the policy's
 * `embedSequences` wrapped as `(tokens) => Float32Array`, to use hidden states instead) and are cached
 * by problem id: a problem's embedding never changes within a run. The retrieval index is rebuilt
 * only when the bank changes. Both caches are derived data and are left out of the journaled state.
 * What consolidation does is a plug-in (src/plugins; default: the built-in PMD consolidator).
 */
import { Effect } from "effect"
import { compareStrings } from "../../src/core/Order.ts"
import { type BehaviorBank, emptyBank } from "../../src/memory/behavior/behavior.ts"
import { type ConsolidateConfig, defaultConsolidateConfig } from "../../src/memory/behavior/consolidate.ts"
import { recordUses } from "../../src/memory/behavior/usage.ts"
import { type Embedder, makeHashEmbedder } from "../../src/memory/embed/hashEmbed.ts"
import type { ProblemInsights } from "../../src/memory/insight/insights.ts"
import { type BehaviorIndex, behaviorIndex, retrieveBehaviors } from "../../src/memory/retrieval/retrieve.ts"
import { defaultIndexConfig, type IndexConfig } from "../../src/memory/retrieval/vectorIndex.ts"
import { behavior, type Behavior } from "../../src/runtime/Actor.ts"
import { consolidateWith } from "../../src/plugins/apply.ts"
import { pmdConsolidator } from "../../src/plugins/builtins.ts"
import type { ConsolidatorPlugin } from "../../src/plugins/types.ts"
import { ConsolidatorIn, ConsolidatorInputError, type ConsolidatorOut } from "./protocol.ts"

export { ConsolidatorInputError, type ConsolidatorOut } from "./protocol.ts"

export interface ConsolidatorState {
  readonly bank: BehaviorBank
  /** Derived caches (not journaled). */
  readonly vecs: ReadonlyMap<string, Float32Array>
  readonly index: BehaviorIndex | undefined
}

export interface ConsolidatorOptions {
  readonly name?: string
  /** Embeds problems (clustering, retrieval keys and queries). */
  readonly embedProblem?: Embedder
  /** Embeds behavior content (the near-duplicate rule). */
  readonly embedContent?: Embedder
  readonly config?: ConsolidateConfig
  readonly index?: IndexConfig
  readonly initial?: BehaviorBank
  /** The consolidator plug-in (default: the built-in "pmd"). */
  readonly plugin?: ConsolidatorPlugin
}

export const consolidatorBehavior = (
  opts: ConsolidatorOptions = {}
): Behavior<ConsolidatorState, ConsolidatorIn, ConsolidatorOut, ConsolidatorInputError> => {
  const embedProblem = opts.embedProblem ?? makeHashEmbedder()
  const embedContent = opts.embedContent ?? makeHashEmbedder()
  const config = opts.config ?? defaultConsolidateConfig
  const plugin = opts.plugin ?? pmdConsolidator
  const vecsOf = (state: ConsolidatorState, problems: ReadonlyArray<{ id: string; tokens: ReadonlyArray<number> }>) => {
    const vecs = new Map(state.vecs)
    const out = problems.map((p) => {
      let v = vecs.get(p.id)
      if (!v) vecs.set(p.id, (v = embedProblem(p.tokens)))
      return { id: p.id, vec: v }
    })
    return { vecs, out }
  }
  const fail = (e: unknown) => new ConsolidatorInputError({ problem: e instanceof Error ? e.message : String(e) })
  return behavior({
    name: opts.name ?? "consolidator",
    initial: { bank: opts.initial ?? emptyBank, vecs: new Map(), index: undefined },
    inbox: ConsolidatorIn,
    handle: (state: ConsolidatorState, msg: ConsolidatorIn) =>
      Effect.try({
        try: (): readonly [ConsolidatorState, ConsolidatorOut] => {
          switch (msg._tag) {
            case "Consolidate": {
              const { vecs, out } = vecsOf(state, msg.problems)
              const r = consolidateWith(plugin, {
                problems: out, insights: msg.insights as ReadonlyArray<ProblemInsights>, bank: state.bank,
                ctx: { step: msg.step, policyVersion: msg.policyVersion }
              }, { embed: embedContent, config })
              const count = (op: string) => r.edits.filter((e) => e.op === op).length
              const bank = r.bank
              return [{ bank, vecs, index: bank === state.bank ? state.index : undefined }, {
                _tag: "Consolidated", created: count("new"), updated: count("update"), removed: count("remove"),
                size: bank.behaviors.length, clusters: r.clusters
              }]
            }
            case "Retrieve": {
              if (!Number.isInteger(msg.k) || msg.k < 0) throw new Error(`k must be a non-negative integer, got ${msg.k}`)
              const { vecs, out } = vecsOf(state, msg.queries)
              const index = state.index ?? behaviorIndex(state.bank, opts.index ?? defaultIndexConfig)
              const results = out.sort((a, b) => compareStrings(a.id, b.id))
                .map((q) => ({ problemId: q.id, behaviors: retrieveBehaviors(index, q.vec, msg.k) }))
              return [{ ...state, vecs, index }, { _tag: "Retrieved", results }]
            }
            case "RecordUses": {
              const bank = recordUses(state.bank, msg.uses)
              return [{ ...state, bank, index: undefined }, { _tag: "Recorded" }]
            }
            case "GetBank":
              return [state, { _tag: "Bank", bank: state.bank }]
          }
        },
        catch: fail
      }),
    journalView: { state: (s) => s.bank }
  })
}
