/**
 * Nodes of the Merkle HAMT behind PMap: content-addressed, immutable, and canonical.
 *
 * A map is a hash-array-mapped trie over sha256(key), fan-out 16 (one hex nibble per level). Its shape
 * is a function of its contents only: a subtree holding no entry is absent, one entry is a Leaf, two or
 * more is a Branch whose children are the subtrees of the next nibble. So equal contents give equal
 * trees, in any insertion order, and the root's id names the contents.
 *
 * Node id = sha256 of the node's encoding (below). The encoding is also the on-disk record (disk.ts), so
 * a node read back from a file is verified by recomputing its id. Encodings:
 *   Leaf   0x01 | u32 big-endian key byte length | key (utf-8) | value (canonical Codec bytes)
 *   Branch ASCII "B" | bitmap (4 hex) | count (8 hex) | child id (64 hex) per set bit, in nibble order
 *   Empty  0x00                (only ever hashed, to give the empty map an id)
 * The first byte is a domain tag, so a leaf never hashes like a branch. Branches are hex text because
 * hashing a string of child ids is ~2x faster in node than copying them into a binary buffer, and a
 * branch is rebuilt (hashed) on every update below it.
 */
import { hash } from "node:crypto"

export const TAG_EMPTY = 0x00
export const TAG_LEAF = 0x01
export const TAG_BRANCH = 0x42 // "B"
/** sha256 has 64 nibbles; two distinct keys always differ before this depth. */
export const MAX_DEPTH = 64

export interface Leaf {
  readonly kind: "leaf"
  readonly key: string
  /** sha256(key) as lowercase hex: nibble d of the trie path is character d. */
  readonly keyHash: string
  /** Canonical Codec bytes of the value; never handed out, so a stored version cannot be mutated. */
  readonly value: Uint8Array
  readonly count: 1
  /** Content id: sha256 hex of the encoding. */
  readonly hex: string
}

export interface Branch {
  readonly kind: "branch"
  /** Bit i set = a child for nibble i. */
  readonly bitmap: number
  /** Children in nibble order, one per set bit. */
  readonly children: ReadonlyArray<Node>
  /** Number of entries below (>= 2 by the canonical rule). */
  readonly count: number
  /** Content id: sha256 hex of the encoding. */
  readonly hex: string
}

export type Node = Leaf | Branch

// Hex output on purpose: node's one-shot hash is ~2x faster returning a string than a Buffer.
const sha = (bytes: Uint8Array | string): string => hash("sha256", bytes, "hex")

/** Content id of the empty map. */
export const EMPTY_ID: string = sha(Uint8Array.of(TAG_EMPTY))

/** sha256 of the key's utf-8 bytes, hex: the trie path of a key. */
export const keyHashOf = (key: string): string => sha(key)

/** The 4-bit slot of a hex key hash at `depth` (0..63). */
export const nibble = (keyHash: string, depth: number): number => {
  const c = keyHash.charCodeAt(depth)
  return c <= 57 ? c - 48 : c - 87 // '0'..'9' | 'a'..'f'
}

/** Number of set bits of a 16-bit bitmap (index of a child among its siblings). */
export const popcount16 = (x: number): number => {
  x = x - ((x >> 1) & 0x5555)
  x = (x & 0x3333) + ((x >> 2) & 0x3333)
  x = (x + (x >> 4)) & 0x0f0f
  return (x + (x >> 8)) & 0x1f
}

export const encodeLeaf = (key: string, value: Uint8Array): Buffer => {
  const keyBytes = Buffer.from(key, "utf8")
  const out = Buffer.allocUnsafe(5 + keyBytes.length + value.length)
  out[0] = TAG_LEAF
  out.writeUInt32BE(keyBytes.length, 1)
  keyBytes.copy(out, 5)
  out.set(value, 5 + keyBytes.length)
  return out
}

/** A leaf over already-canonical value bytes (the caller hands over ownership of `value`). */
export const makeLeaf = (key: string, value: Uint8Array, keyHash: string = keyHashOf(key)): Leaf =>
  Object.freeze({ kind: "leaf", key, keyHash, value, count: 1, hex: sha(encodeLeaf(key, value)) })

const hex4 = (n: number): string => n.toString(16).padStart(4, "0")
const hex8 = (n: number): string => n.toString(16).padStart(8, "0")

/** The branch encoding as a latin-1 string (every char is ASCII). */
export const encodeBranchText = (bitmap: number, count: number, children: ReadonlyArray<Node>): string => {
  let s = "B" + hex4(bitmap) + hex8(count)
  for (const c of children) s += c.hex
  return s
}

/** A branch over children in nibble order; `bitmap` must have one bit per child. */
export const makeBranch = (bitmap: number, children: ReadonlyArray<Node>): Branch => {
  let count = 0
  for (const c of children) count += c.count
  // Frozen (as leaves are): nodes are shared by every version that contains them.
  return Object.freeze({
    kind: "branch",
    bitmap,
    children: Object.freeze(children),
    count,
    hex: sha(encodeBranchText(bitmap, count, children))
  })
}

/** The encoding a node's id is the hash of (also its on-disk record). */
export const encodeNode = (node: Node): Buffer =>
  node.kind === "leaf"
    ? encodeLeaf(node.key, node.value)
    : Buffer.from(encodeBranchText(node.bitmap, node.count, node.children), "latin1")

/** Calls `visit` on every leaf below `node` (in trie order, not key order). */
export const forEachLeaf = (node: Node | undefined, visit: (leaf: Leaf) => void): void => {
  if (node === undefined) return
  if (node.kind === "leaf") return visit(node)
  for (const c of node.children) forEachLeaf(c, visit)
}
