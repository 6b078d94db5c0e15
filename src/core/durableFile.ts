/**
 * The one file layer every pmdsim file goes through: crash-consistent writes and appends.
 *
 * `writeFileDurable` writes `<file>.<pid>.tmp` in full (short writes are continued, a zero-byte write
 * is an error), fsyncs it, renames it over `file` and fsyncs the directory: a reader, or a process
 * resumed after a crash, sees the old file or the complete new one, never a torn one. On any failure
 * the temp file is removed and a FileWriteError names the file (ENOSPC: "no space left on device
 * writing FILE"). `appendFileDurable` appends and fsyncs (metrics.jsonl); a crash can at worst leave
 * a torn last line, which readers that resume drop.
 *
 * Test hooks (documented in the README, honoured only here): the layer counts its mutating steps
 * ("crash points": a temp file written, a rename, an append, a directory created or removed) in this
 * process. `PMDSIM_CRASH_AT_WRITE=N` stops the process hard (SIGKILL, no handlers, no flush) right
 * after the N-th (each process counts its own: in a sweep, the sweep and every run it starts).
 * `PMDSIM_ENOSPC_AT_WRITE=N` makes the N-th data write fail as a full disk would, after
 * half of its bytes. `PMDSIM_WRITE_TRACE=FILE` appends one line per crash point ("pid N label path")
 * to FILE, so a test can count them (per process: a sweep's processes share the file). These variables are never read anywhere else.
 */
import * as fs from "node:fs"
import { dirname } from "node:path"

/** The synchronous file operations the layer uses (node:fs satisfies it; tests inject failures). */
export interface FsLike {
  openSync(path: string, flags: string): number
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number
  fsyncSync(fd: number): void
  closeSync(fd: number): void
  renameSync(from: string, to: string): void
  unlinkSync(path: string): void
  readFileSync(path: string): Buffer
  mkdirSync(path: string, options: { recursive: true }): unknown
  existsSync(path: string): boolean
}

export const nodeFs: FsLike = {
  openSync: (p, f) => fs.openSync(p, f),
  writeSync: (fd, b, o, l) => fs.writeSync(fd, b, o, l),
  fsyncSync: (fd) => fs.fsyncSync(fd),
  closeSync: (fd) => fs.closeSync(fd),
  renameSync: (a, b) => fs.renameSync(a, b),
  unlinkSync: (p) => fs.unlinkSync(p),
  readFileSync: (p) => fs.readFileSync(p),
  mkdirSync: (p, o) => fs.mkdirSync(p, o),
  existsSync: (p) => fs.existsSync(p)
}

/** A write that did not happen; the target is untouched and no temp file is left. */
export class FileWriteError extends Error {
  readonly _tag = "FileWriteError"
  readonly file: string
  readonly problem: string
  /** the system error code (ENOSPC, EACCES, EROFS, ENOTDIR, ...) when there was one */
  readonly code: string | undefined
  constructor(file: string, problem: string, code?: string, doing = "writing") {
    super(`${problem} ${doing} ${file}`)
    this.file = file
    this.problem = problem
    this.code = code
  }
}

const codeOf = (e: unknown): string | undefined => (e as { code?: unknown } | null)?.code as string | undefined

/** "no space left on device", "read-only file system", ... : the reason a person can act on. */
export const describeIoError = (e: unknown): string => {
  switch (codeOf(e)) {
    case "ENOSPC": return "no space left on device"
    case "EROFS": return "read-only file system"
    case "EACCES":
    case "EPERM": return "permission denied"
    case "ENOTDIR": return "a path component is a file, not a directory"
    case "EISDIR": return "is a directory"
    case "EDQUOT": return "disk quota exceeded"
    default: return e instanceof Error ? e.message : String(e)
  }
}

const envInt = (name: string): number | undefined => {
  const v = process.env[name]
  if (v === undefined || !/^\d+$/.test(v)) return undefined
  return Number(v)
}

let crashPoints = 0
let dataWrites = 0

/** Counts one crash point; stops the process hard if a test asked for a crash here. */
export const crashPoint = (label: string, path: string): void => {
  crashPoints++
  const trace = process.env["PMDSIM_WRITE_TRACE"]
  if (trace !== undefined) fs.appendFileSync(trace, `${process.pid} ${crashPoints} ${label} ${path}\n`)
  if (envInt("PMDSIM_CRASH_AT_WRITE") === crashPoints) {
    process.kill(process.pid, "SIGKILL")
  }
}

/** Writes all of `bytes` to `fd` (continuing short writes), or throws; the injected ENOSPC hook lives here. */
const writeAll = (io: FsLike, fd: number, bytes: Uint8Array): void => {
  dataWrites++
  let end = bytes.length
  const failAt = envInt("PMDSIM_ENOSPC_AT_WRITE") === dataWrites
  if (failAt) end = Math.floor(bytes.length / 2)
  for (let off = 0; off < end;) {
    const n = io.writeSync(fd, bytes, off, end - off)
    if (n <= 0) throw Object.assign(new Error("write returned 0 bytes"), { code: "EIO" })
    off += n
  }
  if (failAt) throw Object.assign(new Error("ENOSPC: no space left on device (injected)"), { code: "ENOSPC" })
}

const toBytes = (data: string | Uint8Array): Uint8Array => (typeof data === "string" ? Buffer.from(data, "utf8") : data)

const fsyncDir = (io: FsLike, dir: string): void => {
  const dfd = io.openSync(dir, "r")
  try {
    io.fsyncSync(dfd)
  } finally {
    io.closeSync(dfd)
  }
}

/** Writes `data` to `file` atomically and durably (temp file, full write, fsync, rename, directory fsync). */
export const writeFileDurable = (file: string, data: string | Uint8Array, io: FsLike = nodeFs): void => {
  const tmp = `${file}.${process.pid}.tmp`
  let fd: number | undefined
  try {
    fd = io.openSync(tmp, "w")
    writeAll(io, fd, toBytes(data))
    io.fsyncSync(fd)
    io.closeSync(fd)
    fd = undefined
    crashPoint("temp", tmp)
    io.renameSync(tmp, file)
  } catch (e) {
    if (fd !== undefined) {
      try {
        io.closeSync(fd)
      } catch {
        // already failing: the write's own error is the one to report
      }
    }
    try {
      if (io.existsSync(tmp)) io.unlinkSync(tmp)
    } catch {
      // nothing more to do: a stray temp file is never read, and resume removes its own
    }
    throw new FileWriteError(file, describeIoError(e), codeOf(e))
  }
  try {
    fsyncDir(io, dirname(file))
  } catch (e) {
    throw new FileWriteError(dirname(file), describeIoError(e), codeOf(e), "syncing the directory")
  }
  crashPoint("rename", file)
}

/** Appends `text` to `file` (created if missing) and fsyncs it; a failed append is cut back off. */
export const appendFileDurable = (file: string, text: string): void => {
  let fd: number | undefined
  let size = 0
  try {
    fd = fs.openSync(file, "a")
    size = fs.fstatSync(fd).size
    writeAll(nodeFs, fd, toBytes(text))
    fs.fsyncSync(fd)
  } catch (e) {
    if (fd !== undefined) {
      try {
        fs.ftruncateSync(fd, size)
      } catch {
        // a torn last line is still dropped by a resume (runDir.ts truncateMetrics)
      }
    }
    throw new FileWriteError(file, describeIoError(e), codeOf(e))
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
  crashPoint("append", file)
}

/**
 * A recursive mkdir reports ENOENT on a read-only file system (Node walks up and gives the last error);
 * creating the first missing component alone gives the error a person can act on (EROFS, EACCES, ...).
 */
const firstMkdirError = (dir: string): unknown => {
  let missing = dir
  while (!fs.existsSync(dirname(missing)) && dirname(missing) !== missing) missing = dirname(missing)
  try {
    fs.mkdirSync(missing)
    fs.rmdirSync(missing)
    return undefined
  } catch (e) {
    return e
  }
}

/** Creates `dir` (and its parents) or throws a FileWriteError naming the reason. */
export const makeDirDurable = (dir: string): void => {
  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory()) throw new FileWriteError(dir, "a file is in the way", "ENOTDIR", "creating the directory")
    return
  }
  try {
    fs.mkdirSync(dir, { recursive: true })
  } catch (e) {
    const real = codeOf(e) === "ENOENT" ? firstMkdirError(dir) ?? e : e
    throw new FileWriteError(dir, describeIoError(real), codeOf(real), "creating the directory")
  }
  crashPoint("mkdir", dir)
}

/** Removes a file or directory tree this process is entitled to remove (callers decide what that is). */
export const removeDurable = (path: string): void => {
  if (!fs.existsSync(path)) return
  try {
    fs.rmSync(path, { recursive: true, force: true })
  } catch (e) {
    throw new FileWriteError(path, describeIoError(e), codeOf(e), "removing")
  }
  crashPoint("remove", path)
}

/** Renames `from` to `to` (atomic on one file system) and fsyncs the target's directory. */
export const renameDurable = (from: string, to: string): void => {
  try {
    fs.renameSync(from, to)
    fsyncDir(nodeFs, dirname(to))
  } catch (e) {
    throw new FileWriteError(to, describeIoError(e), codeOf(e), `renaming ${from} to`)
  }
  crashPoint("rename", to)
}
