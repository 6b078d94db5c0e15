/**
 * PMap: an immutable, content-addressed persistent map from string keys to Codec-encodable values.
 *
 * Guarantees:
 * - `id` names the contents: equal contents give equal ids in any process and any insertion order
 *   (the trie's shape is canonical and every node is hashed over canonical bytes, see node.ts).
 * - Versions are immutable: `set` stores the value's canonical bytes at call time and `get` decodes a
 *   fresh copy, so mutating the object passed to `set`, or one read back, never changes a map.
 * - An update copies only the O(depth) nodes on the edited paths (depth ~ log16 n: 5 at 100k entries);
 *   everything else is shared with the previous map. `update`/`setMany`/`edit()` batch many edits and
 *   hash each touched node once.
 * - `entries()`/`keys()` are sorted by key (UTF-16 code units), never by hash or insertion order.
 * Values go through Codec's canonical form: `undefined` object fields are dropped, Map/Set entries come
 * back sorted, class instances and functions are rejected (SnapshotInvalidInput).
 */
import { decode, encode } from "../../core/Codec.ts"
import { compareStrings } from "../../core/Order.ts"
import { SnapshotInvalidInput } from "./errors.ts"
import { EMPTY_ID, forEachLeaf, keyHashOf, type Leaf, makeLeaf, type Node } from "./node.ts"
import { applyOps, lookup, type Op, sortOps } from "./trie.ts"


/** One edit of a batch: set a key, or delete it. */
export type Edit<V> =
  | { readonly key: string; readonly value: V }
  | { readonly key: string; readonly delete: true }

const checkKey = (key: unknown): string => {
  if (typeof key !== "string") throw new SnapshotInvalidInput(`keys must be strings, got ${typeof key}`)
  return key
}

/** Canonical bytes of `value`, copied out of msgpackr's shared buffer so nothing else can alias them. */
export const valueBytes = (key: string, value: unknown): Uint8Array => {
  if (value === undefined) throw new SnapshotInvalidInput(`value for key ${JSON.stringify(key)} is undefined (use delete)`)
  try {
    return new Uint8Array(encode(value))
  } catch (e) {
    throw new SnapshotInvalidInput(`value for key ${JSON.stringify(key)}: ${e instanceof Error ? e.message : String(e)}`)
  }
}

/**
 * A fresh decoded copy of stored bytes. msgpackr returns binary (`bin`) values as views into the bytes it
 * decodes, so decoding the stored bytes directly would let a caller write through a read-back Uint8Array
 * into a stored version; decoding a private copy makes every read independent.
 */
export const decodeValue = <V>(bytes: Uint8Array): V => decode(bytes.slice()) as V

const opOf = <V>(edit: Edit<V>): Op => {
  const key = checkKey(edit.key)
  const keyHash = keyHashOf(key)
  if ("delete" in edit && edit.delete === true) return { key, keyHash, leaf: undefined }
  return { key, keyHash, leaf: makeLeaf(key, valueBytes(key, (edit as { value: V }).value), keyHash) }
}

export class PMap<V = unknown> {
  /** The trie root (internal to the store: Versions and disk.ts read it; do not mutate). */
  readonly root: Node | undefined

  private constructor(root: Node | undefined) {
    this.root = root
  }

  /** The empty map. */
  static empty<V = unknown>(): PMap<V> {
    return new PMap<V>(undefined)
  }

  /** Wraps a canonical trie root (used by the store when reading a version). */
  static fromRoot<V = unknown>(root: Node | undefined): PMap<V> {
    return new PMap<V>(root)
  }

  /** A map holding `entries` (later duplicates of a key win). */
  static fromEntries<V>(entries: Iterable<readonly [string, V]>): PMap<V> {
    return PMap.empty<V>().setMany(entries)
  }

  /** Content id: sha256 hex of the root node's encoding (EMPTY_ID for the empty map). */
  get id(): string {
    return this.root === undefined ? EMPTY_ID : this.root.hex
  }

  get size(): number {
    return this.root === undefined ? 0 : this.root.count
  }

  /** A fresh decoded copy of the value at `key`, or undefined. */
  get(key: string): V | undefined {
    const leaf = lookup(this.root, checkKey(key), keyHashOf(key))
    return leaf === undefined ? undefined : decodeValue<V>(leaf.value)
  }

  has(key: string): boolean {
    return lookup(this.root, checkKey(key), keyHashOf(key)) !== undefined
  }

  /** Content id of the entry at `key` (sha256 of its leaf), or undefined: cheap equality without decoding. */
  entryId(key: string): string | undefined {
    return lookup(this.root, checkKey(key), keyHashOf(key))?.hex
  }

  set(key: string, value: V): PMap<V> {
    return this.update([{ key, value }])
  }

  delete(key: string): PMap<V> {
    return this.update([{ key, delete: true }])
  }

  /** Applies a batch of edits in order (a later edit of the same key wins), hashing each touched node once. */
  update(edits: Iterable<Edit<V>>): PMap<V> {
    const byKey = new Map<string, Op>()
    for (const edit of edits) {
      const op = opOf(edit)
      byKey.delete(op.key) // keep map order = last edit order; irrelevant to the result, which is canonical
      byKey.set(op.key, op)
    }
    if (byKey.size === 0) return this
    const root = applyOps(this.root, sortOps([...byKey.values()]))
    return root === this.root ? this : new PMap<V>(root)
  }

  /** Sets many keys at once. */
  setMany(entries: Iterable<readonly [string, V]>): PMap<V> {
    const edits: Array<Edit<V>> = []
    for (const [key, value] of entries) edits.push({ key, value })
    return this.update(edits)
  }

  /** A transient builder over this map: edits are encoded at once (immutability) and hashed at `commit`. */
  edit(): PMapBuilder<V> {
    return new PMapBuilder<V>(this)
  }

  /** All entries sorted by key, values decoded fresh. */
  entries(): Array<[string, V]> {
    return this.leaves().map((l) => [l.key, decodeValue<V>(l.value)])
  }

  /** All keys, sorted. */
  keys(): Array<string> {
    return this.leaves().map((l) => l.key)
  }

  /** Same contents (compares ids only). */
  equals(other: PMap<V>): boolean {
    return this.id === other.id
  }

  private leaves(): Array<Leaf> {
    const out: Array<Leaf> = []
    forEachLeaf(this.root, (l) => out.push(l))
    return out.sort((a, b) => compareStrings(a.key, b.key))
  }
}

/**
 * A transient batch of edits over a base map. Reads see pending edits. `commit()` builds the new map
 * in one pass; the builder can keep going afterwards (from the committed map).
 */
export class PMapBuilder<V = unknown> {
  private base: PMap<V>
  private readonly pending = new Map<string, Op>()

  constructor(base: PMap<V>) {
    this.base = base
  }

  set(key: string, value: V): this {
    const op = opOf<V>({ key, value })
    this.pending.set(op.key, op)
    return this
  }

  delete(key: string): this {
    const op = opOf<V>({ key, delete: true })
    this.pending.set(op.key, op)
    return this
  }

  get(key: string): V | undefined {
    const op = this.pending.get(key)
    if (op === undefined) return this.base.get(key)
    return op.leaf === undefined ? undefined : decodeValue<V>(op.leaf.value)
  }

  has(key: string): boolean {
    const op = this.pending.get(key)
    return op === undefined ? this.base.has(key) : op.leaf !== undefined
  }

  /** Number of keys edited since the last commit. */
  get pendingCount(): number {
    return this.pending.size
  }

  /** The map with every pending edit applied. */
  commit(): PMap<V> {
    if (this.pending.size > 0) {
      const root = applyOps(this.base.root, sortOps([...this.pending.values()]))
      this.base = root === this.base.root ? this.base : PMap.fromRoot<V>(root)
      this.pending.clear()
    }
    return this.base
  }
}
