/**
 * The built-in plug-ins: thin adapters over the memory logic of src/memory, registered under the names
 * a config uses when it leaves the field out ("pmd"), plus Memp's three update policies. A run that
 * names none of them computes exactly what it computed before plug-ins existed (same state hashes).
 */
import { consolidate } from "../memory/behavior/consolidate.ts"
import { updateInsights } from "../memory/insight/insights.ts"
import { reflect } from "../memory/insight/reflect.ts"
import { mempUpdate, type UpdatePolicy } from "../memory/memp/memp.ts"
import { retrieveBehaviors } from "../memory/retrieval/retrieve.ts"
import {
  type ConsolidatorPlugin, defineConsolidator, defineMempPolicy, defineReflector, defineRetriever, type MemoryPlugins, type MempPolicyPlugin,
  type Plugin, type ReflectorPlugin, type RetrieverPlugin
} from "./types.ts"

/** The name of every built-in memory plug-in, and what an absent config field means. */
export const BUILTIN = "pmd"

/** PMD's consolidator (src/memory/behavior/consolidate.ts): cluster, abstract, retrieve-then-decide. */
export const pmdConsolidator: ConsolidatorPlugin = defineConsolidator({
  name: BUILTIN,
  description: "PMD's consolidator: cluster problems, abstract each cluster's insights, decide new/update/remove edits (cap: memory.bankCapacity)",
  consolidate: (input, env) => {
    const r = consolidate(input, env.embed, env.config)
    return { bank: r.bank, edits: r.edits, clusters: r.clustering.clusters.length }
  }
})

/** PMD's reflector (src/memory/insight/): contrastive reflection, then the insight store's novelty gate and cap. */
export const pmdReflector: ReflectorPlugin = defineReflector({
  name: BUILTIN,
  description: "contrastive reflection on successes vs failures, then the novelty gate and cap of the insight store",
  reflect: (prev, experience, ctx, env) => updateInsights(prev, reflect(experience, ctx, env.reflect), env.embed, env.insight)
})

/** Top-K by cosine between the problem's embedding and behavior keys; memory.retrieval="random" shuffles with the seeded stream. */
export const pmdRetriever: RetrieverPlugin = defineRetriever({
  name: BUILTIN,
  description: "top-K behaviors by embedding similarity (memory.retrieval=\"random\": a seeded shuffle)",
  retrieve: (bank, query, env) =>
    env.mode === "random"
      ? env.rng.shuffle(bank.behaviors).slice(0, env.k)
      : retrieveBehaviors(env.index(), query.vec, env.k).map((h) => h.behavior)
})

const memp = (policy: UpdatePolicy, description: string): MempPolicyPlugin =>
  defineMempPolicy({ name: policy, description, update: (store, outcomes, embed) => mempUpdate(store, outcomes, policy, embed) })

/** Memp's update policies (src/memory/memp/memp.ts): memory.update = "vanilla" | "validation" | "adjustment". */
export const mempPolicies: ReadonlyArray<MempPolicyPlugin> = [
  memp("vanilla", "Memp: store every episode"),
  memp("validation", "Memp: store successful episodes only"),
  memp("adjustment", "Memp: store successes; a failed use of an item appends the divergent pattern to its avoid list")
]

export const builtinPlugins: ReadonlyArray<Plugin> = [pmdConsolidator, pmdReflector, pmdRetriever, ...mempPolicies]

/** The plug-ins of a config that names none (the PMD pipeline). */
export const builtinMemoryPlugins: MemoryPlugins = { consolidator: pmdConsolidator, reflector: pmdReflector, retriever: pmdRetriever, memp: undefined }

/** The built-ins with the built-in Memp policy `update` names ("pmd": none; undefined for a name that is no built-in). */
export const builtinMemoryPluginsFor = (update: string): MemoryPlugins =>
  ({ ...builtinMemoryPlugins, memp: mempPolicies.find((p) => p.name === update) })
