/**
 * Framing and atomic writes for the store's files.
 *
 * Every file is   magic (8 bytes) | format version (u32 BE) | body length (u64 BE) | body | sha256 (32 bytes)
 * where the checksum covers everything before it. `unframe` checks each part in turn and names the first
 * problem (too short, foreign magic, unknown version, truncated or extended body, checksum mismatch) in a
 * SnapshotFileCorrupt carrying the file path.
 *
 * `writeAtomic` writes to `<path>.tmp`, fsyncs it, renames it over `path` and fsyncs the directory, so a
 * reader sees either the old file or the complete new one, never a mix. On any failure it removes the temp
 * file and raises SnapshotIoError; the target is untouched. All file access goes through `FsLike` so that
 * tests can inject a failure in the middle of a write.
 */
import { hash } from "node:crypto"
import * as nodeFsModule from "node:fs"
import { dirname } from "node:path"
import { SnapshotFileCorrupt, SnapshotIoError } from "./errors.ts"

/** The synchronous file operations the store uses (node:fs satisfies it). */
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
  openSync: (p, f) => nodeFsModule.openSync(p, f),
  writeSync: (fd, b, o, l) => nodeFsModule.writeSync(fd, b, o, l),
  fsyncSync: (fd) => nodeFsModule.fsyncSync(fd),
  closeSync: (fd) => nodeFsModule.closeSync(fd),
  renameSync: (a, b) => nodeFsModule.renameSync(a, b),
  unlinkSync: (p) => nodeFsModule.unlinkSync(p),
  readFileSync: (p) => nodeFsModule.readFileSync(p),
  mkdirSync: (p, o) => nodeFsModule.mkdirSync(p, o),
  existsSync: (p) => nodeFsModule.existsSync(p)
}

export const FORMAT_VERSION = 1
export const MAGIC_PACK = "PMDPACK\n"
export const MAGIC_INDEX = "PMDINDX\n"
const HEADER = 8 + 4 + 8
const TRAILER = 32

export const sha256Buffer = (bytes: Uint8Array): Buffer => hash("sha256", bytes, "buffer")

/** Wraps a body in the header and checksum. */
export const frame = (magic: string, body: Uint8Array): Buffer => {
  const out = Buffer.allocUnsafe(HEADER + body.length + TRAILER)
  out.write(magic, 0, "latin1")
  out.writeUInt32BE(FORMAT_VERSION, 8)
  out.writeBigUInt64BE(BigInt(body.length), 12)
  out.set(body, HEADER)
  sha256Buffer(out.subarray(0, HEADER + body.length)).copy(out, HEADER + body.length)
  return out
}

/** The body of a framed file, after checking magic, version, length and checksum. */
export const unframe = (file: string, magic: string, bytes: Uint8Array): Uint8Array => {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buf.length < HEADER + TRAILER) {
    throw new SnapshotFileCorrupt(file, `truncated: ${buf.length} bytes, shorter than the ${HEADER + TRAILER}-byte frame`)
  }
  const seen = buf.toString("latin1", 0, 8)
  if (seen !== magic) {
    throw new SnapshotFileCorrupt(file, `bad magic ${JSON.stringify(seen)}, expected ${JSON.stringify(magic)} (not a pmdsim store file of this kind)`)
  }
  const version = buf.readUInt32BE(8)
  if (version !== FORMAT_VERSION) {
    throw new SnapshotFileCorrupt(file, `format version ${version} is not supported (this build reads ${FORMAT_VERSION})`)
  }
  const declared = buf.readBigUInt64BE(12)
  const actual = BigInt(buf.length - HEADER - TRAILER)
  if (declared > actual) throw new SnapshotFileCorrupt(file, `truncated: header declares ${declared} body bytes, file holds ${actual}`)
  if (declared < actual) throw new SnapshotFileCorrupt(file, `${actual - declared} unexpected bytes after the body`)
  const end = HEADER + Number(declared)
  if (!sha256Buffer(buf.subarray(0, end)).equals(buf.subarray(end))) {
    throw new SnapshotFileCorrupt(file, "checksum mismatch (the file was modified or damaged)")
  }
  return buf.subarray(HEADER, end)
}

const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** Reads a whole file, mapping a failure to SnapshotIoError. */
export const readWhole = (fs: FsLike, file: string): Buffer => {
  try {
    return fs.readFileSync(file)
  } catch (e) {
    throw new SnapshotIoError(file, `cannot read: ${describe(e)}`)
  }
}

/** Writes `bytes` to `path` atomically (temp file, fsync, rename, fsync dir). */
export const writeAtomic = (fs: FsLike, path: string, bytes: Uint8Array): void => {
  const tmp = `${path}.tmp`
  let fd: number | undefined
  try {
    fd = fs.openSync(tmp, "w")
    for (let off = 0; off < bytes.length;) off += fs.writeSync(fd, bytes, off, bytes.length - off)
    fs.fsyncSync(fd)
    fs.closeSync(fd)
    fd = undefined
    fs.renameSync(tmp, path)
  } catch (e) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd)
      } catch {
        // already failing; the write error below is the one to report
      }
    }
    try {
      if (fs.existsSync(tmp)) fs.unlinkSync(tmp)
    } catch {
      // a leftover temp file is harmless: it is never read and the next write replaces it
    }
    throw new SnapshotIoError(path, `atomic write failed: ${describe(e)}`)
  }
  // Make the rename itself durable. A failure here cannot undo the (complete) rename, so report it.
  try {
    const dfd = fs.openSync(dirname(path), "r")
    try {
      fs.fsyncSync(dfd)
    } finally {
      fs.closeSync(dfd)
    }
  } catch (e) {
    throw new SnapshotIoError(dirname(path), `fsync of directory failed: ${describe(e)}`)
  }
}
