/** The plug-in registry, config names, plug-in files and the Effect services. */
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { tinyConfig } from "../../src/config/presets.ts"
import { ConfigError, resolveConfig } from "../../src/config/resolve.ts"
import type { RunConfig } from "../../src/config/RunConfig.ts"
import {
  builtinRegistry, Consolidator, defaultRegistry, defineConsolidator, defineMempPolicy, loadPluginFiles, memoryLayer, pmdConsolidator, PluginError,
  PluginRegistry, Plugins, resolvePlugins, Retriever, withPlugins
} from "../../src/plugins/index.ts"
import { tmp } from "../experiments/cliHelpers.ts"
import { keepOne } from "./fixtures/keepOne.ts"

const FIXTURE = join(import.meta.dirname, "fixtures", "keepOne.ts")
const cfgWith = (memory: Partial<RunConfig["memory"]>): RunConfig => ({ ...tinyConfig, memory: { ...tinyConfig.memory, ...memory } })
const thrown = (f: () => unknown): unknown => {
  try {
    f()
  } catch (e) {
    return e
  }
  throw new Error("did not throw")
}

describe("plug-in registry", () => {
  it("holds the built-ins under the names an absent field means", () => {
    const r = builtinRegistry()
    expect([r.names("consolidator"), r.names("reflector"), r.names("retriever"), r.names("memp")])
      .toEqual([["pmd"], ["pmd"], ["pmd"], ["adjustment", "validation", "vanilla"]])
    const p = resolvePlugins(tinyConfig, r)
    expect([p.consolidator.name, p.reflector.name, p.retriever.name, p.memp]).toEqual(["pmd", "pmd", "pmd", undefined])
    expect(resolvePlugins(cfgWith({ update: "adjustment" }), r).memp?.name).toBe("adjustment")
  })

  it("refuses bad plug-ins and a taken name, accepts the same object twice", () => {
    const r = builtinRegistry()
    r.register(keepOne).register(keepOne)
    expect(r.names("consolidator")).toEqual(["keep-one", "pmd"])
    const other = defineConsolidator({ name: "keep-one", consolidate: (i) => ({ bank: i.bank }) })
    expect(thrown(() => r.register(other))).toBeInstanceOf(PluginError)
    expect((thrown(() => r.register({ ...keepOne, name: "has space" })) as Error).message).toMatch(/name must be/)
    expect((thrown(() => r.register({ kind: "consolidator", name: "x" } as never)) as Error).message).toContain("'consolidate' must be a function")
    expect((thrown(() => r.register({ kind: "teacher", name: "x" } as never)) as Error).message).toContain("kind must be one of")
    expect((thrown(() => r.register(defineMempPolicy({ name: "pmd", update: (s) => ({ store: s, added: [], adjusted: [], removed: [] }) }))) as Error).message).toContain("PMD's consolidator")
    // a copy is independent
    const c = r.copy().register(defineConsolidator({ name: "only-in-copy", consolidate: (i) => ({ bank: i.bank }) }))
    expect(c.names("consolidator")).toContain("only-in-copy")
    expect(r.names("consolidator")).not.toContain("only-in-copy")
  })

  it("an unknown name is a ConfigError naming the field and the registered names", () => {
    const r = builtinRegistry().register(keepOne)
    const e = thrown(() => resolvePlugins(cfgWith({ consolidator: "top-usage" }), r)) as ConfigError
    expect(e).toBeInstanceOf(ConfigError)
    expect(e.message).toContain("memory.consolidator: no consolidator named 'top-usage' is registered (registered: keep-one, pmd)")
    expect((thrown(() => resolvePlugins(cfgWith({ retriever: "bm25" }), r)) as Error).message).toContain("memory.retriever: no retriever named 'bm25'")
    expect((thrown(() => resolvePlugins(cfgWith({ update: "vanila" }), r)) as Error).message)
      .toContain("memory.update: no Memp update policy named 'vanila' is registered (registered: pmd, adjustment, validation, vanilla)")
  })

  it("config: the names are optional fields (--set works), validated as names, absent by default (old hashes unchanged)", () => {
    expect(tinyConfig.memory.consolidator).toBeUndefined()
    expect(resolveConfig({ preset: "tiny", sets: ["memory.consolidator=keep-one", "memory.reflector=mine", "memory.retriever=bm25"] }).memory)
      .toMatchObject({ consolidator: "keep-one", reflector: "mine", retriever: "bm25" })
    const e = thrown(() => resolveConfig({ preset: "tiny", sets: ["memory.consolidator=\"two words\""] })) as Error
    expect(e).toBeInstanceOf(ConfigError)
    expect(e.message).toMatch(/expected a plug-in name[\s\S]*\["memory"\]\["consolidator"\]/)
  })

  it("plug-in files: a default export registers; a missing or failing file is a ConfigError naming it", async () => {
    const r = builtinRegistry()
    const files = await Effect.runPromise(loadPluginFiles([FIXTURE], r))
    expect(files).toEqual([FIXTURE])
    expect(r.get("consolidator", "keep-one")).toBe(keepOne)
    const dir = tmp("plugins")
    writeFileSync(join(dir, "list.mjs"), "export default [{ kind: 'retriever', name: 'none', retrieve: () => [] }]\n")
    writeFileSync(join(dir, "bad.mjs"), "export default 42\n")
    writeFileSync(join(dir, "throws.mjs"), "throw new Error('boom')\n")
    await Effect.runPromise(loadPluginFiles([join(dir, "list.mjs")], r))
    expect(r.names("retriever")).toEqual(["none", "pmd"])
    const fail = async (file: string) => {
      const exit = await Effect.runPromiseExit(loadPluginFiles([file], builtinRegistry()))
      assert.isTrue(Exit.isFailure(exit))
      return JSON.stringify(exit)
    }
    expect(await fail(join(dir, "missing.js"))).toContain("missing.js: no such file")
    expect(await fail(join(dir, "bad.mjs"))).toContain("its default export must be")
    expect(await fail(join(dir, "throws.mjs"))).toContain("throws.mjs: boom")
  })

  it.effect("services: Plugins defaults to the process-wide registry; withPlugins adds to a copy; memoryLayer resolves a config", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* Plugins, defaultRegistry)
      const custom = yield* Effect.provide(Effect.gen(function*() {
        return yield* Plugins
      }), withPlugins(keepOne))
      assert.instanceOf(custom, PluginRegistry)
      assert.strictEqual(custom.get("consolidator", "keep-one"), keepOne)
      assert.isUndefined(defaultRegistry.get("consolidator", "keep-one"))
      const cfg = cfgWith({ consolidator: "keep-one" })
      const names = yield* Effect.gen(function*() {
        return [(yield* Consolidator).name, (yield* Retriever).name]
      }).pipe(Effect.provide(memoryLayer(cfg)), Effect.provide(withPlugins(keepOne)))
      assert.deepStrictEqual(names, ["keep-one", "pmd"])
      const missing = yield* Effect.flip(Effect.provide(Effect.gen(function*() {
        return yield* Consolidator
      }), memoryLayer(cfg)))
      assert.include(missing.message, "memory.consolidator: no consolidator named 'keep-one'")
      assert.strictEqual(pmdConsolidator, resolvePlugins(tinyConfig).consolidator)
    }))
})
