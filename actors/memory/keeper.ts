/**
 * The run's procedural memory and its version history (the Memory actor's state; a mutable object over
 * the run's snapshot store, which only the memory actor and the plain loop's transition touch).
 *
 * Each step: experience from the verified rollouts (commit "experience"), reflection on the batch's
 * problems (commit "reflector"), and every `behaviorEvery` steps consolidation into behaviors (commit
 * "consolidator"); with a Memp update policy the behavior level is a Memp store instead. Every commit
 * is a new version in the snapshot store (src/memory/versioned.ts over src/memory/store), whose `seq`
 * is the version number. The teacher reads version `newest - lag` (staleness is a knob, never an
 * accident of timing): every level it sees (experience, insights, the behavior bank or the Memp store)
 * comes from that one pinned version, never from the live memory; the teacher asks the memory actor for
 * those views by message (`view` runs inside the actor, so its version cache is the actor's own). The Memp store is versioned with the
 * rest (src/memory/versioned.ts); writers (updates, the build policy) read and write the newest memory.
 * A frozen keeper ignores writes.
 *
 * The reflector, consolidator, retriever and Memp update policy are plug-ins (src/plugins), resolved from
 * the config by the caller (src/experiments/setup.ts, into the data actors/memory/index.ts builds the
 * keeper from); the built-ins are the default.
 */
import type { RunConfig } from "../../src/config/RunConfig.ts"
import { compareStrings } from "../../src/core/Order.ts"
import type { ConsolidatorIn, ConsolidatorOut } from "../../src/protocol/consolidator.ts"
import type { MemorySizes } from "../../src/protocol/memory.ts"
import type { ReflectorIn, ReflectorOut } from "../../src/protocol/reflector.ts"
import { expectTag } from "../../src/runtime/expectTag.ts"
import { Rng } from "../../src/core/Rng.ts"
import { type ConsolidateConfig, defaultConsolidateConfig } from "../../src/memory/behavior/consolidate.ts"
import type { Behavior, BehaviorBank } from "../../src/memory/behavior/behavior.ts"
import { recordUses } from "../../src/memory/behavior/usage.ts"
import type { Embedder } from "../../src/memory/embed/hashEmbed.ts"
import { defaultInsightConfig, type InsightConfig, type ProblemInsights } from "../../src/memory/insight/insights.ts"
import { abstractConfigFor, reflectConfigFor } from "../../src/memory/sharpen.ts"
import { emptyMemp, type MempStore, mempRetrieve, type MempOutcome } from "../../src/memory/memp/memp.ts"
import { recordRollouts, type RolloutGroup } from "../../src/memory/pipeline.ts"
import type { MemoryView } from "../../src/memory/retrieval/compose.ts"
import { behaviorIndex, type BehaviorIndex } from "../../src/memory/retrieval/retrieve.ts"
import { consolidateWith, PluginContractError, reflectWith } from "../../src/plugins/apply.ts"
import { builtinMemoryPluginsFor } from "../../src/plugins/builtins.ts"
import type { MemoryPlugins, ReflectEnv } from "../../src/plugins/types.ts"
import { emptyMemory, type MemoryState } from "../../src/memory/state.ts"
import type { WriteContext } from "../../src/memory/types.ts"
import type { Version } from "../../src/memory/store/Versions.ts"
import { VersionedMemory } from "../../src/memory/versioned.ts"
import { Control } from "../../src/domains/control.ts"

export interface ProblemKey {
  readonly id: string
  /** a fixed rendering of the problem (its canonical prompt): what is embedded for clustering and retrieval */
  readonly query: ReadonlyArray<number>
}

export type { MemorySizes } from "../../src/protocol/memory.ts"

/** What one step writes into memory (the memory protocol's Remember, less PMD-Transient's `fresh`). */
export interface StepWrites {
  readonly groups: ReadonlyArray<RolloutGroup>
  readonly step: number
  readonly policyVersion: number
  readonly consolidate: boolean
  /** the previous step's outcomes; null: no Memp / behavior-use bookkeeping this time */
  readonly outcomes: ReadonlyArray<MempOutcome & { readonly behaviorId?: string }> | null
}

/** A message the memory sends its reflector or consolidator during `remember` (data: their protocols). */
export type MemoryAsk =
  | { readonly to: "reflector"; readonly msg: ReflectorIn }
  | { readonly to: "consolidator"; readonly msg: ConsolidatorIn }
export type MemoryAnswer = ReflectorOut | ConsolidatorOut

const expectAnswer = <T extends MemoryAnswer["_tag"]>(a: MemoryAnswer, tag: T): Extract<MemoryAnswer, { _tag: T }> =>
  expectTag("memory collaborator", a, tag)

export class MemoryKeeper {
  vm: VersionedMemory
  frozen = false
  private readonly cfg: RunConfig
  private readonly embed: Embedder
  get embedder(): Embedder {
    return this.embed
  }
  /** The fixed embedder of problems (clustering and retrieval keys; memory.problemKey). */
  readonly problemEmbedder: Embedder
  private readonly problems: ReadonlyArray<{ id: string; vec: Float32Array; query: ReadonlyArray<number> }>
  private readonly queryOf: Map<string, { vec: Float32Array; query: ReadonlyArray<number> }>
  private readonly views = new Map<string, PinnedView>()
  /** The memory plug-ins of this run (src/plugins). */
  readonly plugins: MemoryPlugins

  /**
   * `problems` are clustered into behaviors (the training split); `queries` can also retrieve them
   * (e.g. held-out problems at evaluation).
   */
  constructor(
    cfg: RunConfig, embed: Embedder, problems: ReadonlyArray<ProblemKey>, queries: ReadonlyArray<ProblemKey> = [], vm: VersionedMemory = new VersionedMemory(),
    plugins: MemoryPlugins = builtinMemoryPluginsFor(cfg.memory.update), embedProblem: Embedder = embed
  ) {
    this.cfg = cfg
    this.vm = vm
    this.embed = embed
    this.problemEmbedder = embedProblem
    this.plugins = plugins
    if (cfg.memory.update !== "pmd" && plugins.memp === undefined) throw new Error(`memory.update=${cfg.memory.update}: no Memp update policy given to the keeper`)
    this.problems = problems.map((p) => ({ id: p.id, vec: embedProblem(p.query), query: p.query }))
    this.queryOf = new Map(this.problems.map((p) => [p.id, { vec: p.vec, query: p.query }]))
    for (const q of queries) if (!this.queryOf.has(q.id)) this.queryOf.set(q.id, { vec: embedProblem(q.query), query: q.query })
  }

  /**
   * The newest Memp store (what the next commit writes). Setting it restores a checkpoint's copy (run.ts):
   * equal to the head version's store for checkpoints written since the Memp store is versioned.
   */
  get memp(): MempStore {
    return this.vm.memp
  }
  set memp(store: MempStore) {
    this.vm.restoreMemp(store)
  }

  /** The newest version's number (0 = empty memory, before any commit) and id. */
  get newest(): { readonly seq: number; readonly id: string } {
    const h = this.vm.head
    return h === undefined ? { seq: 0, id: "empty" } : { seq: h.seq + 1, id: h.id }
  }

  /** The version `lag` commits before the newest (clamped at the oldest), as (seq, id). */
  lagged(lag: number): { readonly seq: number; readonly id: string } {
    const h = this.vm.head
    if (h === undefined) return this.newest
    const log = this.vm.store.log(h.id, lag + 1)
    if (lag >= log.length && log.length === h.seq + 1) return { seq: 0, id: "empty" } // before the first commit
    const v = log[Math.min(lag, log.length - 1)]!
    return { seq: v.seq + 1, id: v.id }
  }

  /**
   * One step's writes (Eqs. 1-3), the one memory path of the plain loop and of the actors: the Memp /
   * behavior-use bookkeeping of the previous step's outcomes (none when `outcomes` is null), experience
   * (commit "experience"), reflection (commit "reflector"), and on the slow clock consolidation (commit
   * "consolidator"). A coroutine: it yields each message for the reflector or the consolidator as data
   * and resumes with the reply. The actor pipeline sends them to the reflector and consolidator actors;
   * the plain loop (and PMD-Transient's throw-away memory) answers them in place (`answerInPlace`: the
   * same plug-in functions over this keeper's own insights and bank). Returns the versions committed.
   */
  *remember(r: StepWrites): Generator<MemoryAsk, Array<Version>, MemoryAnswer> {
    if (this.frozen) return []
    const ctx = { step: r.step, policyVersion: r.policyVersion }
    const out: Array<Version> = []
    if (r.outcomes !== null) {
      if (this.consolidates) {
        // only behaviors the bank still holds (a lagged teacher may have used one a consolidation replaced)
        const uses = this.behaviorUses(r.outcomes)
        if (uses.length > 0) expectAnswer(yield { to: "consolidator", msg: { _tag: "RecordUses", uses } }, "Recorded")
      }
      out.push(...this.recordOutcomes(r.outcomes, ctx))
    }
    out.push(this.recordExperience(r.groups, ctx))
    if (this.reflects) {
      const s = this.vm.state
      const experiences = [...new Set(r.groups.map((g) => g.problemId))].sort(compareStrings).flatMap((id) => s.experience.get(id) ?? [])
      const reflected = expectAnswer(yield { to: "reflector", msg: { _tag: "Reflect", step: r.step, policyVersion: r.policyVersion, experiences } }, "Reflected")
      out.push(this.applyInsights(reflected.changed, ctx))
    }
    if (this.consolidates && r.consolidate) {
      const insights = [...this.vm.state.insights.values()]
      expectAnswer(yield { to: "consolidator", msg: { _tag: "Consolidate", step: r.step, policyVersion: r.policyVersion, problems: this.problemTokens, insights } }, "Consolidated")
      out.push(this.applyBank(expectAnswer(yield { to: "consolidator", msg: { _tag: "GetBank" } }, "Bank").bank, ctx))
    }
    return out
  }

  /**
   * Answers `remember`'s messages here, as the reflector and consolidator actors would (their plug-ins,
   * over this keeper's insights and bank, which the actors mirror): the plain loop's collaborators.
   * One answerer per `remember` run: it holds the bank a `Consolidate` made until `GetBank` reads it.
   */
  answerInPlace(): (ask: MemoryAsk) => MemoryAnswer {
    let consolidated: BehaviorBank | undefined
    return (ask) => {
      const m = ask.msg
      switch (m._tag) {
        case "Reflect": {
          const r = reflectWith(this.plugins.reflector, this.vm.state.insights, m.experiences, { step: m.step, policyVersion: m.policyVersion }, this.reflectEnv)
          return { _tag: "Reflected", changed: r.changed, added: r.added, merged: r.merged, dropped: r.dropped }
        }
        case "RecordUses":
          // the keeper's own bank counts the uses (recordOutcomes): nothing to mirror
          return { _tag: "Recorded" }
        case "Consolidate": {
          const s = this.vm.state
          const r = consolidateWith(this.plugins.consolidator, { problems: this.problems, insights: m.insights, bank: s.bank, ctx: { step: m.step, policyVersion: m.policyVersion } }, { embed: this.embed, config: this.consolidateConfig })
          consolidated = r.bank
          const count = (op: string) => r.edits.filter((e) => e.op === op).length
          return { _tag: "Consolidated", created: count("new"), updated: count("update"), removed: count("remove"), size: r.bank.behaviors.length, clusters: r.clusters }
        }
        case "GetBank":
          return { _tag: "Bank", bank: consolidated ?? this.vm.state.bank }
        default:
          throw new Error(`memory keeper: cannot answer ${m._tag} in place`)
      }
    }
  }

  /** `remember` with its messages answered in place (no actors). */
  rememberInPlace(r: StepWrites): Array<Version> {
    const answer = this.answerInPlace()
    const it = this.remember(r)
    let next = it.next()
    while (!next.done) next = it.next(answer(next.value))
    return next.value
  }

  /** The three updates of one step without the outcome bookkeeping, in place (the memory battery's entry point). */
  afterRollouts(groups: ReadonlyArray<RolloutGroup>, ctx: WriteContext, consolidate: boolean): Array<Version> {
    return this.rememberInPlace({ groups, step: ctx.step, policyVersion: ctx.policyVersion, consolidate, outcomes: null })
  }

  /** Eq. 1: experience from the verified rollouts (commit "experience"). */
  recordExperience(groups: ReadonlyArray<RolloutGroup>, ctx: WriteContext): Version {
    const m = this.cfg.memory
    const exp = recordRollouts(this.vm.state, groups, this.embed, {
      maxSuccesses: m.successesMax, maxFailures: m.failuresMax, dupThreshold: m.duplicateSimilarity
    })
    return this.vm.commit(exp.state, ctx, "experience", exp.touched).version
  }

  /** Eq. 2: the reflector's changed insight records (commit "reflector"). */
  applyInsights(changed: ReadonlyArray<ProblemInsights>, ctx: WriteContext): Version {
    const insights = new Map(this.vm.state.insights)
    for (const i of changed) insights.set(i.problemId, i)
    return this.vm.commit({ ...this.vm.state, insights }, ctx, "reflector", { insights: changed.map((i) => i.problemId) }).version
  }

  /** Eq. 3: the consolidator's behavior bank (commit "consolidator"). */
  applyBank(bank: BehaviorBank, ctx: WriteContext): Version {
    return this.vm.commit({ ...this.vm.state, bank }, ctx, "consolidator", { bank: true }).version
  }

  /** Does this configuration keep insights / behaviors at all. */
  get reflects(): boolean {
    return this.cfg.memory.levels !== "E"
  }
  get consolidates(): boolean {
    return this.cfg.memory.levels === "EIB" && this.cfg.memory.update === "pmd"
  }
  get insightConfig(): InsightConfig {
    return { ...defaultInsightConfig, maxPerKind: this.cfg.memory.insightsMax }
  }
  /** What the reflector plug-in is given besides the experience. */
  get reflectEnv(): ReflectEnv {
    return { embed: this.embed, insight: this.insightConfig, reflect: reflectConfigFor(this.cfg.memory.sharpen) }
  }
  get consolidateConfig(): ConsolidateConfig {
    return {
      ...defaultConsolidateConfig, capacity: this.cfg.memory.bankCapacity,
      abstract: abstractConfigFor({ ...defaultConsolidateConfig.abstract, avoidContradiction: this.cfg.memory.avoidContradiction ?? "majority" }, this.cfg.memory.sharpen)
    }
  }
  /** The training problems as the consolidator sees them (id and the tokens it embeds). */
  get problemTokens(): ReadonlyArray<{ readonly id: string; readonly tokens: ReadonlyArray<number> }> {
    return this.problems.map((p) => ({ id: p.id, tokens: p.query }))
  }

  /** Memp bookkeeping and update (behavior level = Memp store), and PMD's behavior hit counters. */
  recordOutcomes(outcomes: ReadonlyArray<MempOutcome & { readonly behaviorId?: string }>, ctx: WriteContext): Array<Version> {
    if (this.frozen) return []
    const m = this.cfg.memory
    if (m.update !== "pmd") {
      // staged: written with the step's experience commit, which follows (MemoryKeeper header)
      this.vm.stageMemp(this.plugins.memp!.update(this.vm.memp, outcomes.map((o) => ({ ...o, response: this.mempProcedure(o.problemId, o.response) })), this.embed).store)
      return []
    }
    const uses = this.behaviorUses(outcomes)
    if (uses.length === 0) return []
    return [this.vm.commit({ ...this.vm.state, bank: recordUses(this.vm.state.bank, uses) }, ctx, "usage", { bank: true }).version]
  }

  /**
   * The PMD behavior uses of some outcomes that the bank can still count. A lagged teacher (memory.lag > 0)
   * reads an older version, whose behaviors a consolidation since then may have replaced: such a use
   * counts for nothing (the behavior is gone), as a Memp use of a deleted item does. At lag 0 every used
   * behavior is still in the bank, so nothing is dropped.
   */
  behaviorUses(outcomes: ReadonlyArray<{ readonly behaviorId?: string; readonly success: boolean }>): Array<{ behaviorId: string; success: boolean }> {
    const uses = outcomes.flatMap((o) => (o.behaviorId === undefined ? [] : [{ behaviorId: o.behaviorId, success: o.success }]))
    if (uses.length === 0) return uses
    const known = new Set(this.vm.state.bank.behaviors.map((b) => b.id))
    return uses.filter((u) => known.has(u.behaviorId))
  }

  /**
   * Memp's build policy (Fang et al.: Trajectory, Script, Proceduralization), without an LLM:
   * "trajectory" stores the rollout itself; "script" stores the problem's abstracted procedure, its
   * strongest strategy insight (the sub-procedure shared by its successes), falling back to the rollout
   * when none exists yet; "proceduralization" stores the script followed by the trajectory.
   */
  private mempProcedure(problemId: string, response: ReadonlyArray<number>): ReadonlyArray<number> {
    const build = this.cfg.memory.mempBuild
    if (build === "trajectory") return response
    const best = [...(this.vm.state.insights.get(problemId)?.strategies ?? [])]
      .sort((a, b) => b.support - a.support || b.confidence - a.confidence || (a.id < b.id ? -1 : 1))[0]
    if (best === undefined) return response
    return build === "script" ? [...best.tokens, Control.EOS] : [...best.tokens, Control.SEP, ...response]
  }

  /** What the teacher sees of a problem at `version` (experience, insights, top-K behaviors). */
  view(version: string, problemId: string, retrievalRng: Rng): { view: MemoryView; topBehavior?: string } {
    const v = this.viewAt(version)
    const q = this.queryOf.get(problemId)
    const m = this.cfg.memory
    const base: MemoryView = {
      ...(v.state.experience.get(problemId) ? { experience: v.state.experience.get(problemId)! } : {}),
      ...(v.state.insights.get(problemId) ? { insights: v.state.insights.get(problemId)! } : {})
    }
    if (m.levels !== "EIB" || m.behaviorTopK === 0 || q === undefined) return { view: base }
    if (m.update !== "pmd") {
      const key = m.retrieval === "avefact" ? "ave_fact" : m.retrieval
      const items = mempRetrieve(v.memp, q.query, key, m.behaviorTopK, this.embed, retrievalRng)
      const behaviors = items.map((it) => pseudoBehavior(it.id, it.procedure))
      return { view: { ...base, behaviors }, ...(items[0] ? { topBehavior: items[0].id } : {}) }
    }
    if (v.index === null || v.state.bank.behaviors.length === 0) return { view: base }
    const index = v.index
    const retriever = this.plugins.retriever
    const behaviors = retriever.retrieve(v.state.bank, { problemId, tokens: q.query, vec: q.vec }, { k: m.behaviorTopK, mode: m.retrieval, rng: retrievalRng, index: () => index })
    // the teacher must see the version it pinned, and no more than K behaviors of it
    const ids = new Set(v.state.bank.behaviors.map((b) => b.id))
    if (behaviors.length > m.behaviorTopK || behaviors.some((b) => !ids.has(b.id))) {
      throw new PluginContractError("retrieval returns at most K items of the pinned version",
        `retriever '${retriever.name}' returned ${behaviors.length} behaviors for ${problemId} (K = ${m.behaviorTopK}), not all of the pinned version ${version}`)
    }
    return { view: { ...base, behaviors: [...behaviors] }, ...(behaviors[0] ? { topBehavior: behaviors[0].id } : {}) }
  }

  sizes(): MemorySizes {
    const s = this.vm.state
    let experience = 0
    let insights = 0
    for (const e of s.experience.values()) experience += e.successes.length + e.failures.length
    for (const i of s.insights.values()) insights += i.strategies.length + i.lessons.length
    const behaviors = this.cfg.memory.update === "pmd" ? s.bank.behaviors.length : this.memp.items.length
    return { experience, insights, behaviors }
  }

  /** Content id of the memory (with the Memp store, when in use): part of the per-step state hash. */
  contentId(): string {
    return this.cfg.memory.update === "pmd" ? this.newest.id : `${this.newest.id}+memp:${this.memp.items.map((i) => i.id).join(",")}`
  }

  /** The memory at one version, as the teacher reads it: its state, its behavior index and its Memp store. */
  private viewAt(version: string): PinnedView {
    const cached = this.views.get(version)
    if (cached) return cached
    const { state, memp } = version === "empty" ? { state: emptyMemory, memp: emptyMemp }
      : version === this.newest.id ? { state: this.vm.state, memp: this.vm.mempAtHead }
      : this.vm.checkoutAll(version)
    const index = state.bank.behaviors.length === 0 ? null : behaviorIndex(state.bank)
    // a lagged teacher asks for the few newest versions only: keep a small cache
    if (this.views.size > this.cfg.memory.lag + 4) this.views.delete(this.views.keys().next().value!)
    const pinned = { state, index, memp }
    this.views.set(version, pinned)
    return pinned
  }

}

interface PinnedView {
  readonly state: MemoryState
  readonly index: BehaviorIndex | null
  readonly memp: MempStore
}

/** A Memp item rendered through the behavior block (its procedure without [EOS]). */
const pseudoBehavior = (id: string, procedure: ReadonlyArray<number>): Behavior => {
  const end = procedure.indexOf(Control.EOS)
  return {
    id, kind: "skill", tokens: end < 0 ? [...procedure] : procedure.slice(0, end), problemIds: [], support: 0, hits: 0,
    successes: 0, sources: { rolloutIds: [], policyVersion: 0, step: 0 }, key: new Float32Array(0), cluster: ""
  }
}
