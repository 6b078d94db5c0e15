/**
 * VersionStore: the pure, synchronous version history of PMaps (ARCHITECTURE.md §3 "Snapshots").
 *
 * A commit records { id, root, parent, seq, meta } where `root` is the map's content id, `parent` the
 * previous version on the branch (null for a first commit), `seq` the parent's seq + 1 (0 for a first
 * commit) and `meta` { step, policyVersion, label }. The version id is sha256 of the canonical encoding
 * of exactly those fields, so it is content-addressed too: the same history gives the same ids in every
 * process. All nodes of all versions live in one node table keyed by node id; a commit adds only the
 * nodes its map does not share with what is already stored (O(depth) per edited key), and reports how
 * many it added. Branches are named heads; `fork` starts a new one at any version, sharing all nodes.
 *
 * The store is append-only: versions and nodes are never removed or changed; only heads move.
 */
import { encode } from "../../core/Codec.ts"
import { sha256Hex } from "../../core/Hash.ts"
import { compareStrings } from "../../core/Order.ts"
import { type Diff, diff } from "./diff.ts"
import { BranchExists, SnapshotInvalidInput, VersionNotFound } from "./errors.ts"
import { EMPTY_ID, type Node } from "./node.ts"
import { PMap } from "./PMap.ts"

export interface VersionMeta {
  /** Training step that produced the version. */
  readonly step: number
  /** Policy version the memory was built against. */
  readonly policyVersion: number
  /** Free text, e.g. "reflect", "consolidate". */
  readonly label: string
}

export interface Version {
  readonly id: string
  /** Content id of the map (PMap.id). */
  readonly root: string
  readonly parent: string | null
  readonly seq: number
  readonly meta: VersionMeta
}

export interface CommitResult {
  readonly version: Version
  /** Nodes this commit added to the node table (O(depth * edited keys)). */
  readonly newNodes: number
}

const VERSION_DOMAIN = "pmdsim/memory/store/version/v1"

/** The canonical bytes a version id is the sha256 of (also its on-disk record). */
export const encodeVersionBody = (v: Omit<Version, "id">): Uint8Array =>
  encode([VERSION_DOMAIN, v.root, v.parent, v.seq, { step: v.meta.step, policyVersion: v.meta.policyVersion, label: v.meta.label }])

const checkMeta = (meta: VersionMeta): VersionMeta => {
  const nat = (n: unknown) => typeof n === "number" && Number.isSafeInteger(n) && n >= 0
  if (!nat(meta.step)) throw new SnapshotInvalidInput(`meta.step must be a natural number, got ${String(meta.step)}`)
  if (!nat(meta.policyVersion)) {
    throw new SnapshotInvalidInput(`meta.policyVersion must be a natural number, got ${String(meta.policyVersion)}`)
  }
  if (typeof meta.label !== "string") throw new SnapshotInvalidInput("meta.label must be a string")
  return { step: meta.step, policyVersion: meta.policyVersion, label: meta.label }
}

const checkBranch = (branch: string): string => {
  if (typeof branch !== "string" || branch.length === 0) throw new SnapshotInvalidInput("branch names are non-empty strings")
  return branch
}

/** A frozen version record: callers share it, so nobody may change a stored version's fields. */
export const freezeVersion = (v: Version): Version => Object.freeze({ ...v, meta: Object.freeze({ ...v.meta }) })

/** Builds a version record (validating meta) and its id. */
export const makeVersion = (root: string, parent: Version | null, meta: VersionMeta): Version => {
  const body = { root, parent: parent?.id ?? null, seq: parent === null ? 0 : parent.seq + 1, meta: checkMeta(meta) }
  return freezeVersion({ id: sha256Hex(encodeVersionBody(body)), ...body })
}

export class VersionStore {
  private readonly nodes = new Map<string, Node>()
  private readonly versions = new Map<string, Version>()
  /** Version ids in the order they entered this store (persistence writes the new tail). */
  private readonly order: Array<string> = []
  private readonly heads = new Map<string, string>()

  /** A store with no versions. */
  static empty(): VersionStore {
    return new VersionStore()
  }

  /** Commits `map` on `branch` (parent = the branch head, none for a new branch) and moves the head. */
  commit(branch: string, map: PMap<unknown>, meta: VersionMeta): CommitResult {
    const head = this.heads.get(checkBranch(branch))
    const result = this.commitOn(head === undefined ? null : head, map, meta)
    this.heads.set(branch, result.version.id)
    return result
  }

  /** Commits `map` with an explicit parent version (or none) without moving any head. */
  commitOn(parent: string | null, map: PMap<unknown>, meta: VersionMeta): CommitResult {
    const version = makeVersion(map.id, parent === null ? null : this.version(parent), meta)
    const newNodes = this.addTree(map.root)
    this.adoptVersion(version)
    return { version, newNodes }
  }

  /** The version with this id; VersionNotFound otherwise. */
  version(id: string): Version {
    const v = this.versions.get(id)
    if (v === undefined) throw new VersionNotFound(id)
    return v
  }

  hasVersion(id: string): boolean {
    return this.versions.has(id)
  }

  /** The head version of `branch`, or undefined for a branch with no commits. */
  head(branch: string): Version | undefined {
    const id = this.heads.get(branch)
    return id === undefined ? undefined : this.version(id)
  }

  /** Branch names with their head version ids, sorted by name. */
  branches(): Array<readonly [string, string]> {
    return [...this.heads.entries()].sort((a, b) => compareStrings(a[0], b[0]))
  }

  /** A version id, or a branch name resolved to its head. */
  resolve(ref: string): Version {
    const byBranch = this.heads.get(ref)
    return this.version(byBranch ?? ref)
  }

  /** The map stored at a version (by id or branch name). Reading is O(1): the trie is shared, not copied. */
  read<V = unknown>(ref: string): PMap<V> {
    const v = this.resolve(ref)
    if (v.root === EMPTY_ID) return PMap.empty<V>()
    const root = this.nodes.get(v.root)
    if (root === undefined) throw new VersionNotFound(`${ref} (root node ${v.root} missing)`)
    return PMap.fromRoot<V>(root)
  }

  /** Starts `branch` at version `from`, sharing every node. BranchExists if the name is taken. */
  fork(from: string, branch: string): Version {
    if (this.heads.has(checkBranch(branch))) throw new BranchExists(branch)
    const v = this.resolve(from)
    this.heads.set(branch, v.id)
    return v
  }

  /** History from `ref` back to its first commit, newest first (at most `limit` versions). */
  log(ref: string, limit: number = Number.POSITIVE_INFINITY): Array<Version> {
    const out: Array<Version> = []
    for (let v: Version | null = this.resolve(ref); v !== null && out.length < limit;) {
      out.push(v)
      v = v.parent === null ? null : this.version(v.parent)
    }
    return out
  }

  /** Commits from ancestor `from` to `to` (staleness), or undefined when `from` is not an ancestor. */
  distance(from: string, to: string): number | undefined {
    const a = this.resolve(from)
    let v: Version | null = this.resolve(to)
    while (v !== null && v.seq > a.seq) v = v.parent === null ? null : this.version(v.parent)
    return v !== null && v.id === a.id ? this.resolve(to).seq - a.seq : undefined
  }

  /** What changed between two versions (ids or branch names); skips shared subtrees. */
  diff<V = unknown>(a: string, b: string): Diff<V> {
    return diff(this.read<V>(a), this.read<V>(b))
  }

  /** Number of distinct nodes stored (all versions). */
  get nodeCount(): number {
    return this.nodes.size
  }

  get versionCount(): number {
    return this.versions.size
  }

  /** Versions in the order they entered the store (load order, then commit order). */
  allVersions(): Array<Version> {
    return this.order.map((id) => this.versions.get(id)!)
  }

  // ---- internal: used by disk.ts ----

  /** The node with this id, if stored. */
  node(id: string): Node | undefined {
    return this.nodes.get(id)
  }

  /** Adds every node of a trie not yet in the table; returns how many were new. */
  addTree(root: Node | undefined): number {
    if (root === undefined || this.nodes.has(root.hex)) return 0
    this.nodes.set(root.hex, root)
    let n = 1
    if (root.kind === "branch") for (const c of root.children) n += this.addTree(c)
    return n
  }

  /** Records a version whose root nodes are already in the table (idempotent). */
  adoptVersion(v: Version): void {
    if (this.versions.has(v.id)) return
    this.versions.set(v.id, v)
    this.order.push(v.id)
  }

  /** Points a branch at a stored version (used when loading heads). */
  setHead(branch: string, id: string): void {
    this.heads.set(checkBranch(branch), this.version(id).id)
  }
}
