/**
 * Framing and atomic writes for the store's files.
 *
 * Every file is   magic (8 bytes) | format version (u32 BE) | body length (u64 BE) | body | sha256 (32 bytes)
 * where the checksum covers everything before it. `unframe` checks each part in turn and names the first
 * problem (too short, foreign magic, unknown version, truncated or extended body, checksum mismatch) in a
 * SnapshotFileCorrupt carrying the file path.
 *
 * `writeAtomic` is the project's one atomic write (core/durableFile.ts: temp file, full write, fsync, rename,
 * directory fsync), with its failures raised as SnapshotIoError; the target is untouched. All file access goes
 * through `FsLike` so that tests can inject a failure in the middle of a write.
 */
import { hash } from "node:crypto"
import { FileWriteError, type FsLike, writeFileDurable } from "../../core/durableFile.ts"
import { SnapshotFileCorrupt, SnapshotIoError } from "./errors.ts"

export type { FsLike } from "../../core/durableFile.ts"
export { nodeFs } from "../../core/durableFile.ts"

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

/** Writes `bytes` to `path` atomically through the project's one file layer (core/durableFile.ts). */
export const writeAtomic = (fs: FsLike, path: string, bytes: Uint8Array): void => {
  try {
    writeFileDurable(path, bytes, fs)
  } catch (e) {
    throw new SnapshotIoError(e instanceof FileWriteError ? e.file : path, `atomic write failed: ${describe(e)}`)
  }
}
