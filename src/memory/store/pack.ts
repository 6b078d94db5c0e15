/**
 * Records of a pack file (see disk.ts for the layout): encoding, and parsing with verification.
 *
 * record = kind (u8: "N" node, "V" version) | length (u32 BE) | bytes.
 * Parsing never trusts a stored id: a node's id is recomputed from its bytes, a branch must name children
 * already loaded (the writer puts children first), a version body must re-encode to exactly its bytes and
 * name a stored root and parent with a consistent seq. Any violation is a SnapshotFileCorrupt for `file`.
 */
import { decode } from "../../core/Codec.ts"
import { sha256Hex } from "../../core/Hash.ts"
import { SnapshotFileCorrupt } from "./errors.ts"
import { EMPTY_ID, makeBranch, makeLeaf, type Node, popcount16, TAG_BRANCH, TAG_LEAF } from "./node.ts"
import { encodeVersionBody, freezeVersion, type Version, type VersionStore } from "./Versions.ts"

export const KIND_NODE = 0x4e // "N"
export const KIND_VERSION = 0x56 // "V"

/** One framed record. */
export const record = (kind: number, bytes: Uint8Array): Buffer => {
  const head = Buffer.allocUnsafe(5)
  head[0] = kind
  head.writeUInt32BE(bytes.length, 1)
  return Buffer.concat([head, bytes])
}

const parseNode = (file: string, bytes: Buffer, nodes: (id: string) => Node | undefined): Node => {
  if (bytes[0] === TAG_LEAF && bytes.length >= 5) {
    const keyLen = bytes.readUInt32BE(1)
    if (5 + keyLen > bytes.length) throw new SnapshotFileCorrupt(file, "leaf record shorter than its key")
    return makeLeaf(bytes.toString("utf8", 5, 5 + keyLen), bytes.subarray(5 + keyLen))
  }
  if (bytes[0] === TAG_BRANCH && bytes.length >= 13) {
    const text = bytes.toString("latin1")
    const bitmap = Number.parseInt(text.slice(1, 5), 16)
    const count = Number.parseInt(text.slice(5, 13), 16)
    const n = popcount16(bitmap)
    if (text.length !== 13 + 64 * n || n === 0) throw new SnapshotFileCorrupt(file, "branch record has the wrong length")
    const children: Array<Node> = []
    for (let i = 0; i < n; i++) {
      const id = text.slice(13 + 64 * i, 13 + 64 * (i + 1))
      const child = nodes(id)
      if (child === undefined) throw new SnapshotFileCorrupt(file, `branch references node ${id}, which is not stored before it`)
      children.push(child)
    }
    const branch = makeBranch(bitmap, children)
    if (branch.count !== count) throw new SnapshotFileCorrupt(file, `branch count ${count} disagrees with its children (${branch.count})`)
    return branch
  }
  throw new SnapshotFileCorrupt(file, `unknown node record tag ${bytes[0]}`)
}

const parseVersion = (file: string, bytes: Buffer, store: VersionStore): Version => {
  let fields: unknown
  try {
    fields = decode(bytes)
  } catch {
    throw new SnapshotFileCorrupt(file, "version record is not valid msgpack")
  }
  const [, root, parent, seq, meta] = Array.isArray(fields) ? fields : []
  const v = { id: sha256Hex(bytes), root, parent, seq, meta } as Version
  let canonical = false
  try {
    canonical = Buffer.from(encodeVersionBody(v)).equals(bytes)
  } catch {
    // falls through to the error below
  }
  if (!canonical) throw new SnapshotFileCorrupt(file, "version record is not a canonical version body")
  if (v.root !== EMPTY_ID && store.node(v.root) === undefined) {
    throw new SnapshotFileCorrupt(file, `version ${v.id} names root ${v.root}, which is not stored`)
  }
  if (v.parent !== null && !store.hasVersion(v.parent)) {
    throw new SnapshotFileCorrupt(file, `version ${v.id} names parent ${v.parent}, which is not stored before it`)
  }
  if (v.seq !== (v.parent === null ? 0 : store.version(v.parent).seq + 1)) {
    throw new SnapshotFileCorrupt(file, `version ${v.id} has seq ${v.seq}, inconsistent with its parent`)
  }
  return freezeVersion(v)
}

/** Loads one pack's records into `store`; returns the node and version ids it held. */
export const loadPack = (file: string, body: Uint8Array, store: VersionStore, nodes: Set<string>, versions: Set<string>) => {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  for (let off = 0; off < buf.length;) {
    if (off + 5 > buf.length) throw new SnapshotFileCorrupt(file, `record header cut short at byte ${off}`)
    const kind = buf[off]!
    const len = buf.readUInt32BE(off + 1)
    if (off + 5 + len > buf.length) throw new SnapshotFileCorrupt(file, `record at byte ${off} runs past the end`)
    const bytes = buf.subarray(off + 5, off + 5 + len)
    if (kind === KIND_NODE) {
      const node = parseNode(file, bytes, (id) => store.node(id))
      store.addTree(node)
      nodes.add(node.hex)
    } else if (kind === KIND_VERSION) {
      const v = parseVersion(file, bytes, store)
      store.adoptVersion(v)
      versions.add(v.id)
    } else {
      throw new SnapshotFileCorrupt(file, `unknown record kind ${kind} at byte ${off}`)
    }
    off += 5 + len
  }
}

