/**
 * `pmdsim/plugins`: write, register and resolve memory plug-ins (consolidator, reflector, retriever,
 * Memp update policy), and the memory types they work on.
 *
 * A config names a plug-in (`memory.consolidator: "top-usage"`); register it in code (registerPlugins,
 * or a registry provided through the `Plugins` service) or from the CLI with `--plugin ./file.js` (a module
 * whose default export registers it). The built-ins are registered the same way, under "pmd" (and
 * "vanilla" / "validation" / "adjustment" for memory.update).
 */
export * from "./types.ts"
export { BUILTIN, builtinMemoryPlugins, builtinMemoryPluginsFor, builtinPlugins, mempPolicies, pmdConsolidator, pmdReflector, pmdRetriever } from "./builtins.ts"
export { builtinRegistry, checkPluginNames, defaultRegistry, PluginError, pluginFields, PluginRegistry, registerPlugins, resolvePlugins } from "./registry.ts"
export { Consolidator, Domain, memoryLayer, MempPolicy, mempLayer, Plugins, Reflector, Retriever, withPlugins } from "./services.ts"
export { exportPluginFiles, inheritedPluginFiles, loadPluginFiles, PLUGINS_ENV } from "./load.ts"
export { bankEdits, type Consolidation, consolidateWith, normaliseConsolidation, PluginContractError, type Reflection, reflectWith } from "./apply.ts"

// the memory data a plug-in reads and returns
export { type Behavior, type BehaviorBank, type BehaviorEdit, behaviorId, type BehaviorKind, contentKey, contentVector, emptyBank, isDeprecated, type RemoveReason } from "../memory/behavior/behavior.ts"
export { consolidate, type ConsolidateConfig, type ConsolidateInput, type ConsolidateResult, defaultConsolidateConfig } from "../memory/behavior/consolidate.ts"
export { recordUses } from "../memory/behavior/usage.ts"
export { type Embedder, makeHashEmbedder } from "../memory/embed/hashEmbed.ts"
export { cosine, dot } from "../memory/embed/vec.ts"
export { type Attempt, emptyExperience, type ExperienceItem, type ProblemExperience, updateExperience } from "../memory/experience/experience.ts"
export { defaultInsightConfig, emptyInsights, type Insight, type InsightConfig, type ProblemInsights, updateInsights } from "../memory/insight/insights.ts"
export { defaultReflectConfig, type InsightCandidate, reflect, type ReflectConfig } from "../memory/insight/reflect.ts"
export { emptyMemp, type MempItem, type MempOutcome, type MempStore, type MempUpdate, mempUpdate } from "../memory/memp/memp.ts"
export { type BehaviorIndex, behaviorIndex, type Retrieved, retrieveBehaviors } from "../memory/retrieval/retrieve.ts"
export type { Provenance, Sources, WriteContext } from "../memory/types.ts"
export { Rng } from "../core/Rng.ts"
