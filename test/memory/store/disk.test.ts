import { afterAll, describe, expect, it } from "vitest"
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DiskStore, INDEX_FILE, PACK_DIR } from "../../../src/memory/store/disk.ts"
import { SnapshotConflict, SnapshotFileCorrupt, SnapshotIoError } from "../../../src/memory/store/errors.ts"
import { type FsLike, nodeFs } from "../../../src/memory/store/fileFormat.ts"
import { PMap } from "../../../src/memory/store/PMap.ts"

const scratch = mkdtempSync(join(tmpdir(), "pmdsim-store-"))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))
let dirs = 0
const freshDir = () => join(scratch, `s${dirs++}`)
const meta = (step: number) => ({ step, policyVersion: 1, label: `step ${step}` })
const base = PMap.fromEntries<unknown>(Array.from({ length: 500 }, (_, i) => [`e/${i}`, { i, w: Float32Array.of(i, -i) }] as const))

/** A saved store with two versions on main and a fork; returns its dir and expected state. */
const savedStore = () => {
  const dir = freshDir()
  const ds = DiskStore.open(dir)
  const v0 = ds.store.commit("main", base, meta(0)).version
  ds.save()
  const v1 = ds.store.commit("main", base.set("e/1", "changed").delete("e/2"), meta(1)).version
  ds.store.fork(v0.id, "exp")
  ds.save()
  return { dir, v0, v1 }
}

const packFiles = (dir: string) => readdirSync(join(dir, PACK_DIR)).filter((f) => f.endsWith(".pmp")).sort()
const snapshotOf = (ds: DiskStore) => ({
  branches: ds.store.branches(),
  log: ds.store.log("main").map((v) => v.id),
  main: ds.store.read("main").id,
  exp: ds.store.read("exp").id
})

/** Loads `dir` and returns the SnapshotFileCorrupt it raises (failing the test if it loads). */
const corruptionOf = (dir: string): SnapshotFileCorrupt => {
  try {
    DiskStore.open(dir)
  } catch (e) {
    expect(e).toBeInstanceOf(SnapshotFileCorrupt)
    return e as SnapshotFileCorrupt
  }
  throw new Error("expected the store to be rejected")
}

describe("DiskStore", () => {
  it("round-trips versions, heads and contents, and reads back the same ids", () => {
    const { dir, v0, v1 } = savedStore()
    const back = DiskStore.open(dir)
    expect(back.store.log("main").map((v) => v.id)).toStrictEqual([v1.id, v0.id])
    expect(back.store.version(v1.id)).toStrictEqual(v1)
    expect(back.store.read("main").get("e/1")).toBe("changed")
    expect(back.store.read("exp").get("e/3")).toStrictEqual({ i: 3, w: Float32Array.of(3, -3) })
    expect(back.store.read("exp").id).toBe(base.id)
    expect(back.store.branches().map(([b]) => b)).toStrictEqual(["exp", "main"])
  })

  it("saves incrementally: a one-key change writes a handful of nodes, not the store", () => {
    const dir = freshDir()
    const ds = DiskStore.open(dir)
    ds.store.commit("main", base, meta(0))
    const first = ds.save()
    expect(first.nodesWritten).toBe(ds.store.nodeCount)
    ds.store.commit("main", base.set("e/9", 0), meta(1))
    const second = ds.save()
    expect(second.versionsWritten).toBe(1)
    expect(second.nodesWritten).toBeLessThanOrEqual(6)
    expect(second.bytesWritten).toBeLessThan(first.bytesWritten / 20)
    expect(ds.save()).toStrictEqual({ pack: null, nodesWritten: 0, versionsWritten: 0, bytesWritten: 0 })
    // reopen and continue: only the new commit's nodes are written
    const again = DiskStore.open(dir)
    again.store.commit("main", again.store.read("main").set("e/10", 1), meta(2))
    expect(again.save().nodesWritten).toBeLessThanOrEqual(6)
    expect(packFiles(dir)).toHaveLength(3)
    expect(DiskStore.open(dir).store.read("main").get("e/10")).toBe(1)
  })

  it("compact folds many packs into one without changing any id", () => {
    const dir = freshDir()
    const ds = DiskStore.open(dir)
    let m = base
    for (let step = 0; step < 6; step++) {
      m = m.set(`e/${step}`, step)
      ds.store.commit("main", m, meta(step))
      ds.save()
    }
    ds.store.fork(ds.store.log("main")[3]!.id, "exp")
    ds.save()
    expect(packFiles(dir)).toHaveLength(6)
    const expected = snapshotOf(ds)
    const report = ds.compact()
    expect(report.versionsWritten).toBe(6)
    expect(report.nodesWritten).toBeLessThan(ds.store.nodeCount + 1)
    expect(packFiles(dir)).toHaveLength(1)
    const back = DiskStore.open(dir)
    expect(snapshotOf(back)).toStrictEqual(expected)
    expect(back.store.nodeCount).toBe(report.nodesWritten)
    // saving after a compaction is incremental again
    back.store.commit("main", back.store.read("main").set("after", 1), meta(9))
    expect(back.save().nodesWritten).toBeLessThanOrEqual(6)
    expect(DiskStore.open(dir).store.read("main").get("after")).toBe(1)
  })

  describe("rejects damaged files with an error naming the file", () => {
    it("truncated pack", () => {
      const { dir } = savedStore()
      const pack = join(dir, PACK_DIR, packFiles(dir)[0]!)
      const bytes = readFileSync(pack)
      writeFileSync(pack, bytes.subarray(0, bytes.length - 100))
      const e = corruptionOf(dir)
      expect(e.file).toBe(pack)
      expect(e.problem).toMatch(/truncated/)
    })

    it("bit flip in a pack body, and in the index", () => {
      for (const target of ["pack", "index"] as const) {
        const { dir } = savedStore()
        const file = target === "pack" ? join(dir, PACK_DIR, packFiles(dir)[0]!) : join(dir, INDEX_FILE)
        const bytes = readFileSync(file)
        bytes[Math.floor(bytes.length / 2)]! ^= 0x10
        writeFileSync(file, bytes)
        const e = corruptionOf(dir)
        expect(e.file).toBe(file)
        expect(e.problem).toMatch(/checksum/)
      }
    })

    it("foreign file and wrong magic", () => {
      const { dir } = savedStore()
      const index = join(dir, INDEX_FILE)
      writeFileSync(index, JSON.stringify({ hello: "this is not a store index, but it is long enough to frame" }))
      expect(corruptionOf(dir)).toMatchObject({ file: index, problem: expect.stringMatching(/bad magic/) })
      // a valid pack put where the index belongs: right framing, wrong kind of file
      const { dir: dir2 } = savedStore()
      writeFileSync(join(dir2, INDEX_FILE), readFileSync(join(dir2, PACK_DIR, packFiles(dir2)[0]!)))
      expect(corruptionOf(dir2)).toMatchObject({ file: join(dir2, INDEX_FILE), problem: expect.stringMatching(/bad magic/) })
    })

    it("unknown format version, tiny file, missing pack", () => {
      const { dir } = savedStore()
      const index = join(dir, INDEX_FILE)
      const bytes = readFileSync(index)
      bytes.writeUInt32BE(99, 8)
      writeFileSync(index, bytes)
      expect(corruptionOf(dir).problem).toMatch(/format version 99/)
      writeFileSync(index, "PMD")
      expect(corruptionOf(dir).problem).toMatch(/truncated/)
      const { dir: dir2 } = savedStore()
      const missing = join(dir2, PACK_DIR, packFiles(dir2)[0]!)
      rmSync(missing)
      expect(corruptionOf(dir2)).toMatchObject({ file: missing, problem: expect.stringMatching(/missing/) })
    })

    it("a pack swapped for another valid pack is caught by the index checksum", () => {
      const { dir } = savedStore()
      const [a, b] = packFiles(dir)
      const fileA = join(dir, PACK_DIR, a!)
      writeFileSync(fileA, readFileSync(join(dir, PACK_DIR, b!)))
      expect(corruptionOf(dir)).toMatchObject({ file: fileA, problem: expect.stringMatching(/differs from the index/) })
    })
  })

  it("a failure in the middle of any write leaves the saved store intact and loadable", () => {
    const change = (ds: DiskStore) =>
      ds.store.commit("main", ds.store.read("main").set("new", { big: "x".repeat(3000) }), meta(2))
    // A dry run measures how many bytes the next save writes to the pack and to the index ...
    const sizes: Array<number> = []
    const counting: FsLike = {
      ...nodeFs,
      openSync: (p, f) => (sizes.push(0), nodeFs.openSync(p, f)),
      writeSync: (fd, buf, off, len) => ((sizes[sizes.length - 1]! += len), nodeFs.writeSync(fd, buf, off, len))
    }
    const dry = DiskStore.open(savedStore().dir, { fs: counting })
    change(dry)
    dry.save()
    const [packBytes, indexBytes] = sizes.filter((n) => n > 0)
    expect(packBytes).toBeGreaterThan(3000)
    // ... then a failure is injected after k bytes, for k spread over both writes.
    const total = packBytes! + indexBytes!
    const points = [0, 1, 57, packBytes! >> 1, packBytes! - 1, packBytes!, packBytes! + 20, total - 1, total]
    const failedIn = new Set<string>()
    for (const failAfter of points) {
      const { dir } = savedStore()
      const expected = snapshotOf(DiskStore.open(dir))
      const indexBefore = readFileSync(join(dir, INDEX_FILE))
      let written = 0
      let opened = ""
      const faulty: FsLike = {
        ...nodeFs,
        openSync: (p, f) => ((opened = p), nodeFs.openSync(p, f)),
        writeSync: (fd, buf, off, len) => {
          const room = failAfter - written
          if (room < len) {
            if (room > 0) (nodeFs.writeSync(fd, buf, off, room), (written += room))
            failedIn.add(opened.includes(`${INDEX_FILE}.`) ? "index" : "pack")
            throw new Error(`injected failure after ${failAfter} bytes`)
          }
          written += len
          return nodeFs.writeSync(fd, buf, off, len)
        }
      }
      const ds = DiskStore.open(dir, { fs: faulty })
      change(ds)
      let failed = false
      try {
        ds.save()
      } catch (e) {
        expect(e).toBeInstanceOf(SnapshotIoError)
        failed = true
      }
      const reloaded = DiskStore.open(dir)
      expect(failed).toBe(failAfter < total)
      if (failed) {
        expect(readFileSync(join(dir, INDEX_FILE)).equals(indexBefore)).toBe(true)
        expect(snapshotOf(reloaded)).toStrictEqual(expected)
        expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toStrictEqual([])
        expect(readdirSync(join(dir, PACK_DIR)).filter((f) => f.endsWith(".tmp"))).toStrictEqual([])
      } else {
        expect(reloaded.store.read("main").get("new")).toStrictEqual({ big: "x".repeat(3000) })
      }
    }
    expect([...failedIn].sort()).toStrictEqual(["index", "pack"])
  })

  it("a save that failed can be retried by the same store once the fault is gone", () => {
    const { dir } = savedStore()
    let broken = true
    const flaky: FsLike = {
      ...nodeFs,
      renameSync: (a, b) => {
        if (broken && b.endsWith(INDEX_FILE)) throw new Error("injected rename failure")
        nodeFs.renameSync(a, b)
      }
    }
    const ds = DiskStore.open(dir, { fs: flaky })
    ds.store.commit("main", ds.store.read("main").set("retry", 1), meta(4))
    expect(() => ds.save()).toThrow(SnapshotIoError)
    broken = false
    expect(ds.save().versionsWritten).toBe(1) // nothing was marked saved by the failed attempt
    expect(DiskStore.open(dir).store.read("main").get("retry")).toBe(1)
  })

  it("a failed rename leaves the old index in place", () => {
    const { dir } = savedStore()
    const expected = snapshotOf(DiskStore.open(dir))
    const faulty: FsLike = {
      ...nodeFs,
      renameSync: (a, b) => {
        if (b.endsWith(INDEX_FILE)) throw new Error("injected rename failure")
        nodeFs.renameSync(a, b)
      }
    }
    const ds = DiskStore.open(dir, { fs: faulty })
    ds.store.commit("main", base, meta(3))
    expect(() => ds.save()).toThrow(SnapshotIoError)
    expect(snapshotOf(DiskStore.open(dir))).toStrictEqual(expected)
  })

  it("refuses to save over an index another writer changed (SnapshotConflict)", () => {
    const { dir } = savedStore()
    const a = DiskStore.open(dir)
    const b = DiskStore.open(dir)
    a.store.commit("main", base.set("by", "a"), meta(5))
    a.save()
    b.store.commit("main", base.set("by", "b"), meta(5))
    expect(() => b.save()).toThrow(SnapshotConflict)
    expect(DiskStore.open(dir).store.read("main").get("by")).toBe("a")
  })
})
