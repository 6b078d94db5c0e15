/**
 * The plug-ins as Effect services. `Plugins` is the registry a run resolves its config's names in
 * (a Context.Reference: absent from the context, it is the process-wide `defaultRegistry`). The per-kind
 * services (Consolidator, Reflector, Retriever, MempPolicy, Domain) hold one implementation each, for
 * code that works with "the consolidator of this config" rather than with names; `memoryLayer(cfg)`
 * provides the memory ones a config names, from the registry in context.
 *
 * A run reads only `Plugins` (src/api/run.ts, src/experiments/run.ts): which plug-in a run uses is decided
 * by its config, which is hashed, never by what happens to be in the context.
 */
import { Context, Effect, Layer } from "effect"
import { ConfigError } from "../config/resolve.ts"
import type { RunConfig } from "../config/RunConfig.ts"
import type { Domain as DomainShape, ProblemBase } from "../domains/Domain.ts"
import { type DomainSpec, makeDomain } from "../domains/index.ts"
import { defaultRegistry, PluginRegistry, resolvePlugins } from "./registry.ts"
import type { ConsolidatorPlugin, MempPolicyPlugin, Plugin, ReflectorPlugin, RetrieverPlugin } from "./types.ts"

/** The registry runs resolve plug-in names in (default: the process-wide one). */
export const Plugins: Context.Reference<PluginRegistry> = Context.Reference<PluginRegistry>("pmdsim/plugins/Plugins", { defaultValue: () => defaultRegistry })

/** A layer whose registry is the process-wide one plus `plugins` (the process-wide one is left unchanged). */
export const withPlugins = (...plugins: ReadonlyArray<Plugin>): Layer.Layer<never> =>
  Layer.succeed(Plugins)(defaultRegistry.copy().register(...plugins))

export class Consolidator extends Context.Service<Consolidator, ConsolidatorPlugin>()("pmdsim/plugins/Consolidator") {
  static readonly layer = (p: ConsolidatorPlugin): Layer.Layer<Consolidator> => Layer.succeed(Consolidator)(p)
}
export class Reflector extends Context.Service<Reflector, ReflectorPlugin>()("pmdsim/plugins/Reflector") {
  static readonly layer = (p: ReflectorPlugin): Layer.Layer<Reflector> => Layer.succeed(Reflector)(p)
}
export class Retriever extends Context.Service<Retriever, RetrieverPlugin>()("pmdsim/plugins/Retriever") {
  static readonly layer = (p: RetrieverPlugin): Layer.Layer<Retriever> => Layer.succeed(Retriever)(p)
}
export class MempPolicy extends Context.Service<MempPolicy, MempPolicyPlugin>()("pmdsim/plugins/MempPolicy") {
  static readonly layer = (p: MempPolicyPlugin): Layer.Layer<MempPolicy> => Layer.succeed(MempPolicy)(p)
}
/**
 * A task domain (seeded generator + verifier, src/domains). Only the built-in "code" and "science" can
 * train: a run's base checkpoint and vocabulary are built for them (README, "Use pmdsim as a library").
 */
export class Domain extends Context.Service<Domain, DomainShape<ProblemBase>>()("pmdsim/plugins/Domain") {
  static readonly layer = (d: DomainShape<ProblemBase>): Layer.Layer<Domain> => Layer.succeed(Domain)(d)
  /** A built-in domain from its spec, e.g. `{ name: "code", seed: 0, config: {} }`. */
  static readonly fromSpec = (spec: DomainSpec): Layer.Layer<Domain> => Layer.sync(Domain)(() => makeDomain(spec))
}

/** The consolidator, reflector and retriever `cfg` names, from the registry in context (ConfigError if one is unknown). */
export const memoryLayer = (cfg: RunConfig): Layer.Layer<Consolidator | Reflector | Retriever, ConfigError> =>
  Layer.effectContext(Effect.gen(function*() {
    const registry = yield* Plugins
    const p = yield* Effect.try({ try: () => resolvePlugins(cfg, registry), catch: (e) => e as ConfigError })
    return Context.make(Consolidator, p.consolidator).pipe(Context.add(Reflector, p.reflector), Context.add(Retriever, p.retriever))
  }))

/** The Memp update policy `cfg.memory.update` names (ConfigError when it is "pmd" or unknown). */
export const mempLayer = (cfg: RunConfig): Layer.Layer<MempPolicy, ConfigError> =>
  Layer.effect(MempPolicy)(Effect.gen(function*() {
    const registry = yield* Plugins
    const p = yield* Effect.try({ try: () => resolvePlugins(cfg, registry), catch: (e) => e as ConfigError })
    if (p.memp === undefined) return yield* Effect.fail(new ConfigError({ message: `memory.update: "pmd" uses PMD's consolidator, not a Memp update policy` }))
    return p.memp
  }))

export { PluginRegistry }
