/** The one file layer: full writes or none, typed errors naming the file, no temp file left behind. */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { appendFileDurable, describeIoError, FileWriteError, type FsLike, makeDirDurable, nodeFs, writeFileDurable } from "../../src/core/durableFile.ts"

const dir = () => mkdtempSync(join(tmpdir(), "pmdsim-durable-"))

describe("writeFileDurable", () => {
  it("continues short writes until every byte is written (the old helper renamed a truncated file into place)", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 1, max: 7 }), (bytes, chunk) => {
      const d = dir()
      const short: FsLike = { ...nodeFs, writeSync: (fd, b, off, len) => nodeFs.writeSync(fd, b, off, Math.min(len, chunk)) }
      writeFileDurable(join(d, "f.bin"), bytes, short)
      expect(new Uint8Array(readFileSync(join(d, "f.bin")))).toEqual(bytes)
      expect(readdirSync(d)).toEqual(["f.bin"])
    }), { numRuns: 30 })
  })

  it("a write that makes no progress fails, leaves the target as it was and no temp file", () => {
    const d = dir()
    writeFileSync(join(d, "f.txt"), "old")
    const stuck: FsLike = { ...nodeFs, writeSync: () => 0 }
    expect(() => writeFileDurable(join(d, "f.txt"), "new contents", stuck)).toThrow(FileWriteError)
    expect(readFileSync(join(d, "f.txt"), "utf8")).toBe("old")
    expect(readdirSync(d)).toEqual(["f.txt"])
  })

  it("a full disk names the file and the reason", () => {
    const d = dir()
    const full: FsLike = { ...nodeFs, writeSync: () => { throw Object.assign(new Error("ENOSPC"), { code: "ENOSPC" }) } }
    try {
      writeFileDurable(join(d, "f.txt"), "x", full)
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(FileWriteError)
      expect((e as FileWriteError).message).toBe(`no space left on device writing ${join(d, "f.txt")}`)
      expect((e as FileWriteError).code).toBe("ENOSPC")
    }
    expect(readdirSync(d)).toEqual([])
  })
})

describe("the rest of the layer", () => {
  it("appends accumulate; a directory in the way of a file is refused with its reason", () => {
    const d = dir()
    appendFileDurable(join(d, "m.jsonl"), "a\n")
    appendFileDurable(join(d, "m.jsonl"), "b\n")
    expect(readFileSync(join(d, "m.jsonl"), "utf8")).toBe("a\nb\n")
    writeFileSync(join(d, "file"), "x")
    expect(() => makeDirDurable(join(d, "file"))).toThrow(/a file is in the way creating the directory/)
    expect(() => makeDirDurable(join(d, "file", "sub"))).toThrow(/file, not a directory creating the directory/)
  })

  it("system errors read as reasons a person can act on", () => {
    const err = (code: string) => Object.assign(new Error(code), { code })
    expect(describeIoError(err("EROFS"))).toBe("read-only file system")
    expect(describeIoError(err("ENOSPC"))).toBe("no space left on device")
    expect(describeIoError(err("EACCES"))).toBe("permission denied")
    expect(describeIoError(err("ENOTDIR"))).toBe("a path component is a file, not a directory")
  })
})
