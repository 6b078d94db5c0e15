/**
 * The plug-in contracts: what a consolidator, reflector, retriever or Memp update policy is, as plain
 * pure functions over memory data (src/memory). A run picks each one by name from its config
 * (`memory.consolidator`, `memory.reflector`, `memory.retriever`, `memory.update`); the registry
 * (registry.ts) maps names to implementations; the built-ins (builtins.ts) are registered the same way.
 *
 * Every plug-in must be pure and deterministic: the same input gives the same output, whatever the
 * order of list inputs, without reading wall time, Math.random or hidden state, and without mutating
 * its input (memory records are shared by reference between versions). pmdsim/testing checks these
 * promises as properties (checkConsolidator, checkReflector, checkMemoryPipeline).
 *
 * A plug-in's name is part of the run's config, so it is hashed with it; its code is not. Changing a
 * plug-in's code under the same name changes results without changing the config hash: give a changed
 * plug-in a new name (e.g. "top-usage-2") when results must stay comparable.
 */
import type { Rng } from "../core/Rng.ts"
import type { Behavior, BehaviorBank, BehaviorEdit } from "../memory/behavior/behavior.ts"
import type { ConsolidateConfig, ConsolidateInput } from "../memory/behavior/consolidate.ts"
import type { Embedder } from "../memory/embed/hashEmbed.ts"
import type { ProblemExperience } from "../memory/experience/experience.ts"
import type { InsightConfig, ProblemInsights } from "../memory/insight/insights.ts"
import type { ReflectConfig } from "../memory/insight/reflect.ts"
import type { MempOutcome, MempStore, MempUpdate } from "../memory/memp/memp.ts"
import type { BehaviorIndex } from "../memory/retrieval/retrieve.ts"
import type { WriteContext } from "../memory/types.ts"

/** What every plug-in carries besides its function. */
interface PluginBase {
  /** The name a config uses (no whitespace; unique per kind within a registry). */
  readonly name: string
  readonly description?: string
}

// ---------------------------------------------------------------------------------------------------
// Consolidator: insights -> the global behavior bank (every memory.behaviorEvery steps)

export interface ConsolidateEnv {
  /** The fixed embedder of behavior content (the near-duplicate rule); problems arrive embedded. */
  readonly embed: Embedder
  /** capacity = memory.bankCapacity; the rest are the built-in's knobs (a plug-in may ignore them). */
  readonly config: ConsolidateConfig
}

export interface ConsolidateOutput {
  /** The next bank: behaviors sorted by id, ids distinct, at most `config.capacity` of them. */
  readonly bank: BehaviorBank
  /**
   * The edits that turn `input.bank` into `bank`. Optional: when absent they are computed by difference,
   * and every removal counts as a "capacity" removal (allowed only when the bank is full).
   */
  readonly edits?: ReadonlyArray<BehaviorEdit>
  /** How many clusters the consolidation formed (reported only). */
  readonly clusters?: number
}

export interface ConsolidatorPlugin extends PluginBase {
  readonly kind: "consolidator"
  /**
   * Decides the next behavior bank from the training problems (with their fixed embeddings), every
   * problem's insights and the current bank, at write context `input.ctx`. Promises: at most `capacity`
   * behaviors; every behavior's sources are rollouts of the input insights or of the current bank;
   * hits, successes, support and sources of a surviving behavior never shrink; a behavior with
   * successes leaves only through an explained `remove` edit, or for capacity when the bank is full;
   * the result does not depend on the order of `problems`, `insights` or their lists.
   */
  readonly consolidate: (input: ConsolidateInput, env: ConsolidateEnv) => ConsolidateOutput
}

// ---------------------------------------------------------------------------------------------------
// Reflector: one problem's experience -> its insights (every step, for the batch's problems)

export interface ReflectEnv {
  /** The fixed embedder (the built-in's novelty gate). */
  readonly embed: Embedder
  /** maxPerKind = memory.insightsMax. */
  readonly insight: InsightConfig
  readonly reflect: ReflectConfig
}

export interface ReflectOutput {
  /** The problem's insights after this reflection (return `prev` itself when nothing changed). */
  readonly next: ProblemInsights
  /** Ids of insights added / merged into (reported; when both are given, an empty pair means "unchanged"). */
  readonly added?: ReadonlyArray<string>
  readonly merged?: ReadonlyArray<string>
  /** Candidates dropped at the cap (reported only). */
  readonly dropped?: number
}

export interface ReflectorPlugin extends PluginBase {
  readonly kind: "reflector"
  /**
   * One problem's insights after reflecting on its current experience at write context `ctx`. Promises:
   * at most `insight.maxPerKind` strategies and as many lessons; every insight's sources are rollouts of
   * this experience or of `prev`; insights accumulate (an insight of `prev` keeps its id, its support
   * and its sources); the result does not depend on the order of the experience's items.
   */
  readonly reflect: (prev: ProblemInsights, experience: ProblemExperience, ctx: WriteContext, env: ReflectEnv) => ReflectOutput
}

// ---------------------------------------------------------------------------------------------------
// Retriever: the behaviors a teacher sees for one problem, from the memory version it pinned

export interface RetrieveQuery {
  readonly problemId: string
  /** The problem's canonical prompt tokens and their fixed embedding. */
  readonly tokens: ReadonlyArray<number>
  readonly vec: Float32Array
}

export interface RetrieveEnv {
  /** memory.behaviorTopK (>= 1 when a retriever is asked). */
  readonly k: number
  /** memory.retrieval: the built-in reads it ("random" = a seeded shuffle); a plug-in may ignore it. */
  readonly mode: "query" | "avefact" | "random"
  /** The retrieval stream of this (step, problem): the only randomness a retriever may use. */
  readonly rng: Rng
  /** The pinned bank's vector index over behavior keys (built once per version). */
  readonly index: () => BehaviorIndex
}

export interface RetrieverPlugin extends PluginBase {
  readonly kind: "retriever"
  /** At most `env.k` behaviors of `bank` (the pinned version's), best first; the first one counts as used. */
  readonly retrieve: (bank: BehaviorBank, query: RetrieveQuery, env: RetrieveEnv) => ReadonlyArray<Behavior>
}

// ---------------------------------------------------------------------------------------------------
// Memp update policy: the behavior level as a Memp store (memory.update = the policy's name)

export interface MempPolicyPlugin extends PluginBase {
  readonly kind: "memp"
  /** The store after a batch of episode outcomes (process them in rollout-id order). */
  readonly update: (store: MempStore, outcomes: ReadonlyArray<MempOutcome>, embed: Embedder) => MempUpdate
}

export type Plugin = ConsolidatorPlugin | ReflectorPlugin | RetrieverPlugin | MempPolicyPlugin
export type PluginKind = Plugin["kind"]
export type PluginOf<K extends PluginKind> = Extract<Plugin, { readonly kind: K }>

/** The plug-ins one run uses, resolved from its config. `memp` is set when memory.update names a Memp policy. */
export interface MemoryPlugins {
  readonly consolidator: ConsolidatorPlugin
  readonly reflector: ReflectorPlugin
  readonly retriever: RetrieverPlugin
  readonly memp: MempPolicyPlugin | undefined
}

/** Constructors that fill in `kind` (plain objects work as well). */
export const defineConsolidator = (p: Omit<ConsolidatorPlugin, "kind">): ConsolidatorPlugin => ({ ...p, kind: "consolidator" })
export const defineReflector = (p: Omit<ReflectorPlugin, "kind">): ReflectorPlugin => ({ ...p, kind: "reflector" })
export const defineRetriever = (p: Omit<RetrieverPlugin, "kind">): RetrieverPlugin => ({ ...p, kind: "retriever" })
export const defineMempPolicy = (p: Omit<MempPolicyPlugin, "kind">): MempPolicyPlugin => ({ ...p, kind: "memp" })
