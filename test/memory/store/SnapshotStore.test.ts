import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer } from "effect"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"
import { INDEX_FILE } from "../../../src/memory/store/disk.ts"
import { PMap } from "../../../src/memory/store/PMap.ts"
import { SnapshotStore } from "../../../src/memory/store/SnapshotStore.ts"

const scratch = mkdtempSync(join(tmpdir(), "pmdsim-snapstore-"))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))
const meta = (step: number) => ({ step, policyVersion: 0, label: "t" })

describe("SnapshotStore (Effect face)", () => {
  it.effect("commits, reads, diffs, forks and reports typed errors in memory", () =>
    Effect.gen(function*() {
      const store = yield* SnapshotStore
      const m0 = PMap.fromEntries<unknown>([["a", 1]])
      const { version: v0 } = yield* store.commit("main", m0, meta(0))
      const { version: v1, newNodes } = yield* store.commit("main", m0.set("b", 2), meta(1))
      assert.isAtMost(newNodes, 3)
      assert.strictEqual((yield* store.read("main")).get("b"), 2)
      assert.deepStrictEqual(yield* store.diff(v0.id, v1.id), { added: [{ key: "b", value: 2 }], removed: [], changed: [] })
      assert.deepStrictEqual((yield* store.log("main")).map((v) => v.seq), [1, 0])
      assert.strictEqual(yield* store.distance(v0.id, "main"), 1)
      yield* store.fork(v0.id, "exp")
      assert.strictEqual((yield* store.head("exp"))?.id, v0.id)
      assert.isUndefined(yield* store.head("none"))
      const missing = yield* Effect.flip(store.read("nope"))
      assert.strictEqual(missing._tag, "VersionNotFound")
      assert.strictEqual(missing.ref, "nope")
      const taken = yield* Effect.flip(store.fork(v0.id, "exp"))
      assert.strictEqual(taken._tag, "BranchExists")
      const bad = yield* Effect.flip(store.commit("main", m0, { step: -1, policyVersion: 0, label: "" }))
      assert.strictEqual(bad._tag, "SnapshotInvalidInput")
      // recovering by tag works as for any Effect error
      const recovered = yield* store.read("nope").pipe(Effect.catchTag("VersionNotFound", () => Effect.succeed(PMap.empty())))
      assert.strictEqual(recovered.size, 0)
      assert.deepStrictEqual(yield* store.save, { pack: null, nodesWritten: 0, versionsWritten: 0, bytesWritten: 0 })
      // leaf a (shared by both versions), leaf b, and the branch over them
      assert.deepStrictEqual(yield* store.stats, { versions: 2, nodes: 3, branches: 2 })
    }).pipe(Effect.provide(SnapshotStore.layer)))

  it.effect("the file layer saves every commit and a new layer on the same directory reads it back", () =>
    Effect.gen(function*() {
      const dir = join(scratch, "a")
      const first = yield* Effect.gen(function*() {
        const store = yield* SnapshotStore
        yield* store.commit("main", PMap.fromEntries([["x", { n: 1 }]]), meta(0))
        return (yield* store.commit("main", PMap.fromEntries([["x", { n: 2 }]]), meta(1))).version
      }).pipe(Effect.provide(SnapshotStore.layerFile(dir)))
      const again = yield* Effect.gen(function*() {
        const store = yield* SnapshotStore
        return { head: yield* store.head("main"), x: (yield* store.read("main")).get("x") }
      }).pipe(Effect.provide(SnapshotStore.layerFile(dir)))
      assert.deepStrictEqual(again, { head: first, x: { n: 2 } })
    }))

  it.effect("a corrupt directory fails the layer with SnapshotFileCorrupt naming the file", () =>
    Effect.gen(function*() {
      const dir = join(scratch, "b")
      yield* SnapshotStore.use((s) => s.commit("main", PMap.empty(), meta(0))).pipe(
        Effect.provide(SnapshotStore.layerFile(dir))
      )
      writeFileSync(join(dir, INDEX_FILE), "not a store index at all, just some text of a decent length")
      const exit = yield* Effect.exit(Layer.build(SnapshotStore.layerFile(dir)).pipe(Effect.scoped))
      assert.isTrue(Exit.isFailure(exit))
      const error = yield* Effect.flip(Layer.build(SnapshotStore.layerFile(dir)).pipe(Effect.scoped))
      assert.strictEqual(error._tag, "SnapshotFileCorrupt")
      assert.strictEqual(error.file, join(dir, INDEX_FILE))
    }))
})
