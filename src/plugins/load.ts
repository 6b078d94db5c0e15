/**
 * Plug-in files: `pmdsim run --plugin ./my-plugins.js` imports the module and hands its default export
 * the registry. The default export is a function `(registry) => void` (it may be async), a plug-in, or
 * an array of plug-ins. Paths are relative to the working directory.
 *
 * A sweep runs each run in a child process: the parent puts the absolute paths of its plug-in files in
 * PMDSIM_PLUGINS (path-delimiter separated), and every pmdsim command loads those files too, so the
 * children resolve the same names.
 */
import { Effect } from "effect"
import { existsSync, statSync } from "node:fs"
import { delimiter, resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { ConfigError } from "../config/resolve.ts"
import { defaultRegistry, type PluginRegistry } from "./registry.ts"
import type { Plugin } from "./types.ts"

export const PLUGINS_ENV = "PMDSIM_PLUGINS"

/** The plug-in files a parent process (a sweep) passed down. */
export const inheritedPluginFiles = (): Array<string> => (process.env[PLUGINS_ENV] ?? "").split(delimiter).filter((f) => f.length > 0)

/** Passes plug-in files down to child processes started from now on. */
export const exportPluginFiles = (files: ReadonlyArray<string>): void => {
  const all = [...new Set([...inheritedPluginFiles(), ...files.map((f) => resolve(f))])]
  if (all.length > 0) process.env[PLUGINS_ENV] = all.join(delimiter)
}

const loaded = new Map<string, Promise<unknown>>()

const apply = async (file: string, registry: PluginRegistry): Promise<void> => {
  const mod = (await import(pathToFileURL(file).href)) as { default?: unknown }
  const d = mod.default
  if (typeof d === "function") await (d as (r: PluginRegistry) => unknown)(registry)
  else if (Array.isArray(d)) registry.register(...(d as ReadonlyArray<Plugin>))
  else if (typeof d === "object" && d !== null && "kind" in d) registry.register(d as Plugin)
  else throw new Error("its default export must be a function (registry) => void, a plug-in or an array of plug-ins")
}

/**
 * Loads plug-in files into `registry` (the inherited ones first); returns their absolute paths. A file
 * that is missing, fails to import or registers a bad plug-in is a ConfigError naming it (exit 2).
 */
export const loadPluginFiles = (files: ReadonlyArray<string>, registry: PluginRegistry = defaultRegistry): Effect.Effect<Array<string>, ConfigError> =>
  Effect.gen(function*() {
    const all = [...new Set([...inheritedPluginFiles(), ...files.map((f) => resolve(f))])]
    for (const file of all) {
      if (!existsSync(file) || !statSync(file).isFile()) return yield* Effect.fail(new ConfigError({ message: `--plugin ${file}: no such file` }))
      // a module is imported once per process; each registry gets its default export applied once
      const key = `${file}\u0000${registryId(registry)}`
      let p = loaded.get(key)
      if (p === undefined) loaded.set(key, (p = apply(file, registry)))
      yield* Effect.tryPromise({
        try: () => p,
        catch: (e) => new ConfigError({ message: `--plugin ${file}: ${e instanceof Error ? e.message : String(e)}` })
      })
    }
    return all
  })

const ids = new WeakMap<PluginRegistry, number>()
let nextId = 0
const registryId = (r: PluginRegistry): number => {
  let id = ids.get(r)
  if (id === undefined) ids.set(r, (id = nextId++))
  return id
}
