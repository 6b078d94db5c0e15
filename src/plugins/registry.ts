/**
 * The plug-in registry: names -> implementations, one namespace per kind. A config names plug-ins
 * (`memory.consolidator: "top-usage"`); a run resolves those names here before it starts and fails with a
 * ConfigError naming the field and listing the registered names when one is unknown (exit 2).
 *
 * `defaultRegistry` is the process-wide registry: the built-ins, plus what `--plugin FILE` loads
 * (load.ts) or code registers with `registerPlugins`. Library code can run with another registry through
 * the `Plugins` service (services.ts).
 */
import { Schema } from "effect"
import { ConfigError } from "../config/resolve.ts"
import { PLUGIN_NAME, type RunConfig } from "../config/RunConfig.ts"
import { BUILTIN, builtinPlugins } from "./builtins.ts"
import type { MemoryPlugins, Plugin, PluginKind, PluginOf } from "./types.ts"

/** A plug-in that cannot be registered (bad shape, a name taken by another implementation). */
export class PluginError extends Schema.TaggedError<PluginError>()("PluginError", { message: Schema.String }) {}

const KINDS: ReadonlyArray<PluginKind> = ["consolidator", "reflector", "retriever", "memp"]
const FUNCTION_OF: Record<PluginKind, string> = { consolidator: "consolidate", reflector: "reflect", retriever: "retrieve", memp: "update" }

export class PluginRegistry {
  private readonly byKind = new Map<PluginKind, Map<string, Plugin>>(KINDS.map((k) => [k, new Map()]))

  /**
   * Adds plug-ins. Registering the same object twice is a no-op (a plug-in file loaded twice); another
   * implementation under a taken name is a PluginError, so a name always means one piece of code.
   */
  register(...plugins: ReadonlyArray<Plugin>): this {
    for (const p of plugins) {
      const what = `plug-in ${JSON.stringify((p as { name?: unknown } | null)?.name ?? null)}`
      if (typeof p !== "object" || p === null) throw new PluginError({ message: `a plug-in must be an object, got ${String(p)}` })
      const table = this.byKind.get(p.kind)
      if (table === undefined) throw new PluginError({ message: `${what}: kind must be one of ${KINDS.join(", ")}, got ${JSON.stringify(p.kind)}` })
      if (typeof p.name !== "string" || !PLUGIN_NAME.test(p.name)) {
        throw new PluginError({ message: `${what}: the name must be a letter or digit, then letters, digits or . _ - / @ :` })
      }
      if (typeof (p as unknown as Record<string, unknown>)[FUNCTION_OF[p.kind]] !== "function") {
        throw new PluginError({ message: `${p.kind} ${what}: '${FUNCTION_OF[p.kind]}' must be a function` })
      }
      if (p.kind === "memp" && p.name === BUILTIN) throw new PluginError({ message: `memp ${what}: "${BUILTIN}" means PMD's consolidator in memory.update` })
      const taken = table.get(p.name)
      if (taken !== undefined && taken !== p) throw new PluginError({ message: `a ${p.kind} named '${p.name}' is already registered (a different implementation)` })
      table.set(p.name, p)
    }
    return this
  }

  get<K extends PluginKind>(kind: K, name: string): PluginOf<K> | undefined {
    return this.byKind.get(kind)!.get(name) as PluginOf<K> | undefined
  }

  /** Registered names of a kind, sorted. */
  names(kind: PluginKind): Array<string> {
    return [...this.byKind.get(kind)!.keys()].sort()
  }

  /** An independent copy (registering into it leaves this one unchanged). */
  copy(): PluginRegistry {
    const out = new PluginRegistry()
    for (const t of this.byKind.values()) out.register(...t.values())
    return out
  }
}

/** A fresh registry holding the built-ins only. */
export const builtinRegistry = (): PluginRegistry => new PluginRegistry().register(...builtinPlugins)

/** The process-wide registry (built-ins, `--plugin` files, `registerPlugins`). */
export const defaultRegistry: PluginRegistry = builtinRegistry()

/** Registers plug-ins in the process-wide registry (what a `--plugin` file's default export may call). */
export const registerPlugins = (...plugins: ReadonlyArray<Plugin>): void => void defaultRegistry.register(...plugins)

/** The config field that names each memory plug-in, and the name it holds (absent = the built-in). */
export const pluginFields = (cfg: RunConfig): ReadonlyArray<{ readonly kind: PluginKind; readonly field: string; readonly name: string }> => [
  { kind: "consolidator", field: "memory.consolidator", name: cfg.memory.consolidator ?? BUILTIN },
  { kind: "reflector", field: "memory.reflector", name: cfg.memory.reflector ?? BUILTIN },
  { kind: "retriever", field: "memory.retriever", name: cfg.memory.retriever ?? BUILTIN },
  ...(cfg.memory.update === BUILTIN ? [] : [{ kind: "memp" as const, field: "memory.update", name: cfg.memory.update }])
]

const unknown = (kind: PluginKind, field: string, name: string, registry: PluginRegistry): ConfigError => {
  const known = kind === "memp" ? [BUILTIN, ...registry.names(kind)] : registry.names(kind)
  return new ConfigError({
    message: `${field}: no ${kind === "memp" ? "Memp update policy" : kind} named '${name}' is registered (registered: ${known.join(", ")}); ` +
      "register it in code (registerPlugins, the Plugins service) or load its file with --plugin FILE"
  })
}

/** The plug-ins a config names; a ConfigError (thrown) names the first unknown field and the registered names. */
export const resolvePlugins = (cfg: RunConfig, registry: PluginRegistry = defaultRegistry): MemoryPlugins => {
  const get = <K extends PluginKind>(kind: K, field: string, name: string): PluginOf<K> => {
    const p = registry.get(kind, name)
    if (p === undefined) throw unknown(kind, field, name, registry)
    return p
  }
  const f = Object.fromEntries(pluginFields(cfg).map((x) => [x.kind, x])) as Partial<Record<PluginKind, { field: string; name: string }>>
  return {
    consolidator: get("consolidator", f.consolidator!.field, f.consolidator!.name),
    reflector: get("reflector", f.reflector!.field, f.reflector!.name),
    retriever: get("retriever", f.retriever!.field, f.retriever!.name),
    memp: f.memp === undefined ? undefined : get("memp", f.memp.field, f.memp.name)
  }
}

/** Checks every plug-in name of some configs (a sweep's runs) before anything starts. */
export const checkPluginNames = (cfgs: ReadonlyArray<RunConfig>, registry: PluginRegistry = defaultRegistry): void => {
  for (const cfg of cfgs) resolvePlugins(cfg, registry)
}
