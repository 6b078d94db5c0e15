/**
 * A VersionStore bound to a directory: incremental, checksummed, crash-safe persistence.
 *
 * Layout:  <dir>/index.pmi             framed (fileFormat.ts) Codec body { packs, heads }
 *          <dir>/packs/<sha256>.pmp    framed body of records, named by the sha256 of the whole file
 * A pack record is  kind (u8: "N" node, "V" version) | length (u32 BE) | bytes,  where a node's bytes are
 * its encoding (node.ts) and a version's the canonical body its id hashes (Versions.ts). Ids are never
 * stored, only recomputed, so every node and version read back is verified by its own content; a branch
 * naming a child that is not on disk is reported as corrupt. Nodes are written children first.
 *
 * `save()` writes one new pack holding only the nodes and versions not yet on disk (O(change)), then
 * replaces the index atomically. The index is the commit point: if anything fails before its rename, the
 * directory still describes the previous state exactly (a stray pack is never referenced). Before writing,
 * save checks that the index is still the one this process loaded or wrote (SnapshotConflict otherwise).
 * `compact()` folds all packs into one the same way (new pack, then index, then old packs deleted).
 */
import { decode, encode } from "../../core/Codec.ts"
import { sha256Hex } from "../../core/Hash.ts"
import { join } from "node:path"
import { SnapshotConflict, SnapshotFileCorrupt } from "./errors.ts"
import { type FsLike, frame, MAGIC_INDEX, MAGIC_PACK, nodeFs, readWhole, unframe, writeAtomic } from "./fileFormat.ts"
import { EMPTY_ID, encodeNode, type Node } from "./node.ts"
import { KIND_NODE, KIND_VERSION, loadPack, record } from "./pack.ts"
import { encodeVersionBody, VersionStore } from "./Versions.ts"

export const INDEX_FILE = "index.pmi"
export const PACK_DIR = "packs"

interface PackEntry {
  readonly file: string
  readonly sha256: string
  readonly bytes: number
}

export interface SaveReport {
  /** The pack written (relative to the directory), or null when nothing was new. */
  readonly pack: string | null
  readonly nodesWritten: number
  readonly versionsWritten: number
  readonly bytesWritten: number
}

export interface OpenOptions {
  readonly fs?: FsLike
}

const parseIndex = (file: string, body: Uint8Array): { packs: Array<PackEntry>; heads: Array<[string, string]> } => {
  let v: unknown
  try {
    v = decode(body)
  } catch {
    throw new SnapshotFileCorrupt(file, "index body is not valid msgpack")
  }
  const o = v as { packs?: unknown; heads?: unknown }
  const packsOk = Array.isArray(o?.packs) &&
    o.packs.every((p: PackEntry) => typeof p?.file === "string" && typeof p.sha256 === "string" && typeof p.bytes === "number")
  const headsOk = Array.isArray(o?.heads) &&
    o.heads.every((h: unknown) => Array.isArray(h) && typeof h[0] === "string" && typeof h[1] === "string")
  if (!packsOk || !headsOk) throw new SnapshotFileCorrupt(file, "index body does not have the expected fields")
  return o as { packs: Array<PackEntry>; heads: Array<[string, string]> }
}

export class DiskStore {
  readonly dir: string
  readonly store: VersionStore
  private readonly fs: FsLike
  private readonly packs: Array<PackEntry> = []
  private readonly savedNodes = new Set<string>()
  private readonly savedVersions = new Set<string>()
  /** sha256 of the index as this process last saw it (null: no index yet). */
  private indexSha: string | null = null

  private constructor(dir: string, fs: FsLike) {
    this.dir = dir
    this.fs = fs
    this.store = VersionStore.empty()
  }

  /** Opens a store directory: loads and verifies it if it has an index, else starts empty (created on save). */
  static open(dir: string, options: OpenOptions = {}): DiskStore {
    const ds = new DiskStore(dir, options.fs ?? nodeFs)
    ds.load()
    return ds
  }

  private get indexPath(): string {
    return join(this.dir, INDEX_FILE)
  }

  private load(): void {
    if (!this.fs.existsSync(this.indexPath)) return
    const raw = readWhole(this.fs, this.indexPath)
    const index = parseIndex(this.indexPath, unframe(this.indexPath, MAGIC_INDEX, raw))
    for (const entry of index.packs) {
      const path = join(this.dir, entry.file)
      if (!this.fs.existsSync(path)) throw new SnapshotFileCorrupt(path, "pack listed in the index is missing")
      const bytes = readWhole(this.fs, path)
      const body = unframe(path, MAGIC_PACK, bytes)
      if (sha256Hex(bytes) !== entry.sha256) throw new SnapshotFileCorrupt(path, "pack checksum differs from the index")
      loadPack(path, body, this.store, this.savedNodes, this.savedVersions)
      this.packs.push(entry)
    }
    for (const [branch, id] of index.heads) {
      if (!this.store.hasVersion(id)) throw new SnapshotFileCorrupt(this.indexPath, `head ${branch} names unknown version ${id}`)
      this.store.setHead(branch, id)
    }
    this.indexSha = sha256Hex(raw)
  }

  /** Nodes of `root` not in `skip`, children before parents. */
  private collectNodes(root: Node | undefined, skip: Set<string>, out: Array<Node>, seen: Set<string>): void {
    if (root === undefined || skip.has(root.hex) || seen.has(root.hex)) return
    seen.add(root.hex)
    if (root.kind === "branch") for (const c of root.children) this.collectNodes(c, skip, out, seen)
    out.push(root)
  }

  /** Writes what is new since the last save/load: one pack (if any) and the index. */
  save(): SaveReport {
    return this.write(false)
  }

  /**
   * Rewrites the whole store as one pack (every version, every node they reach) and points the index at
   * it alone; the old packs are deleted only after the new index is in place. Use it when many small
   * saves have left many packs. A failure leaves the previous index and packs untouched.
   */
  compact(): SaveReport {
    return this.write(true)
  }

  private write(compact: boolean): SaveReport {
    const current = this.fs.existsSync(this.indexPath) ? sha256Hex(readWhole(this.fs, this.indexPath)) : null
    if (current !== this.indexSha) throw new SnapshotConflict(this.indexPath)
    const versions = this.store.allVersions().filter((v) => compact || !this.savedVersions.has(v.id))
    const nodes: Array<Node> = []
    const seen = new Set<string>()
    const skip = compact ? new Set<string>() : this.savedNodes
    for (const v of versions) {
      this.collectNodes(v.root === EMPTY_ID ? undefined : this.store.node(v.root), skip, nodes, seen)
    }
    const heads = this.store.branches().map(([b, id]) => [b, id] as [string, string])
    let pack: PackEntry | null = null
    this.fs.mkdirSync(join(this.dir, PACK_DIR), { recursive: true })
    if (versions.length > 0) {
      const records = [
        ...nodes.map((n) => record(KIND_NODE, encodeNode(n))),
        ...versions.map((v) => record(KIND_VERSION, encodeVersionBody(v)))
      ]
      const bytes = frame(MAGIC_PACK, Buffer.concat(records))
      const sha = sha256Hex(bytes)
      pack = { file: `${PACK_DIR}/${sha}.pmp`, sha256: sha, bytes: bytes.length }
      writeAtomic(this.fs, join(this.dir, pack.file), bytes)
    }
    const packs = compact ? (pack === null ? [] : [pack]) : pack === null ? this.packs : [...this.packs, pack]
    const index = frame(MAGIC_INDEX, encode({ packs: packs.map((p) => ({ ...p })), heads }))
    const indexChanged = pack !== null || current === null || sha256Hex(index) !== current
    if (indexChanged) writeAtomic(this.fs, this.indexPath, index)
    // Only now, with the index renamed into place, does the new state count as saved.
    const dropped = compact ? this.packs.filter((p) => p.file !== pack?.file) : []
    this.packs.splice(0, this.packs.length, ...packs)
    for (const n of nodes) this.savedNodes.add(n.hex)
    for (const v of versions) this.savedVersions.add(v.id)
    this.indexSha = sha256Hex(index)
    for (const p of dropped) {
      try {
        this.fs.unlinkSync(join(this.dir, p.file))
      } catch {
        // an unreferenced pack is harmless: loading reads only the packs the index lists
      }
    }
    return {
      pack: pack?.file ?? null,
      nodesWritten: nodes.length,
      versionsWritten: versions.length,
      bytesWritten: (pack?.bytes ?? 0) + (indexChanged ? index.length : 0)
    }
  }
}
