/**
 * Batched, path-copying updates of the Merkle HAMT (node.ts).
 *
 * `applyOps` takes a batch of edits sorted by key hash and rebuilds only the nodes on their paths, each
 * touched node exactly once, so a batch of k edits hashes O(k * depth) nodes at most and far fewer when
 * edits share upper levels. Untouched subtrees are shared by reference with the input tree (structural
 * sharing). The result is canonical (see node.ts): deleting collapses a branch left with one entry into
 * that entry's leaf, so a tree reached by any edit sequence equals the tree built from its contents.
 */
import { compareStrings } from "../../core/Order.ts"
import { SnapshotInvalidInput } from "./errors.ts"
import { type Branch, type Leaf, makeBranch, MAX_DEPTH, nibble, type Node, popcount16 } from "./node.ts"

/** One edit: set `key` to `leaf`, or delete `key` when `leaf` is undefined. */
export interface Op {
  readonly key: string
  readonly keyHash: string
  readonly leaf: Leaf | undefined
}

const sameNode = (a: Node | undefined, b: Node | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.hex === b.hex)

/** Sorts ops by key hash; the caller guarantees at most one op per key. */
export const sortOps = (ops: Array<Op>): Array<Op> => ops.sort((a, b) => compareStrings(a.keyHash, b.keyHash))

/** End of the run of ops[lo..hi) that share ops[lo]'s nibble at `depth` (ops are sorted by key hash). */
const runEnd = (ops: ReadonlyArray<Op>, lo: number, hi: number, depth: number): number => {
  const nib = nibble(ops[lo]!.keyHash, depth)
  let k = lo + 1
  while (k < hi && nibble(ops[k]!.keyHash, depth) === nib) k++
  return k
}

/** The canonical subtree holding exactly the set-ops of ops[lo..hi) (deletes are ignored). */
const build = (ops: ReadonlyArray<Op>, lo: number, hi: number, depth: number): Node | undefined => {
  let n = 0
  let only: Leaf | undefined
  for (let i = lo; i < hi; i++) {
    const leaf = ops[i]!.leaf
    if (leaf !== undefined) (n++, (only = leaf))
  }
  if (n === 0) return undefined
  if (n === 1) return only
  if (depth >= MAX_DEPTH) throw new SnapshotInvalidInput("two keys share a full sha256 (hash collision)")
  let bitmap = 0
  const children: Array<Node> = []
  for (let j = lo; j < hi;) {
    const k = runEnd(ops, j, hi, depth)
    const child = build(ops, j, k, depth + 1)
    if (child !== undefined) {
      bitmap |= 1 << nibble(ops[j]!.keyHash, depth)
      children.push(child)
    }
    j = k
  }
  return makeBranch(bitmap, children)
}

/** Edits landing on an existing leaf: rebuild from the leaf plus the edits (the leaf loses to an edit of its key). */
const mergeIntoLeaf = (leaf: Leaf, ops: ReadonlyArray<Op>, lo: number, hi: number, depth: number): Node | undefined => {
  const merged: Array<Op> = []
  let overridden = false
  for (let i = lo; i < hi; i++) {
    const op = ops[i]!
    if (op.key === leaf.key) overridden = true
    merged.push(op)
  }
  if (!overridden) merged.push({ key: leaf.key, keyHash: leaf.keyHash, leaf })
  const result = build(sortOps(merged), 0, merged.length, depth)
  return sameNode(result, leaf) ? leaf : result
}

const updateBranch = (node: Branch, ops: ReadonlyArray<Op>, lo: number, hi: number, depth: number): Node | undefined => {
  let slots: Array<Node | undefined> | undefined // copied on the first real change only
  for (let j = lo; j < hi;) {
    const k = runEnd(ops, j, hi, depth)
    const nib = nibble(ops[j]!.keyHash, depth)
    const bit = 1 << nib
    const old = (node.bitmap & bit) !== 0 ? node.children[popcount16(node.bitmap & (bit - 1))] : undefined
    const next = applyOps(old, ops, j, k, depth + 1)
    if (!sameNode(old, next)) {
      if (slots === undefined) {
        slots = new Array<Node | undefined>(16).fill(undefined)
        let c = 0
        for (let s = 0; s < 16; s++) if ((node.bitmap & (1 << s)) !== 0) slots[s] = node.children[c++]
      }
      slots[nib] = next
    }
    j = k
  }
  if (slots === undefined) return node
  let bitmap = 0
  let count = 0
  const children: Array<Node> = []
  for (let s = 0; s < 16; s++) {
    const child = slots[s]
    if (child === undefined) continue
    bitmap |= 1 << s
    count += child.count
    children.push(child)
  }
  if (count === 0) return undefined
  // Canonical collapse: a subtree with one entry is that entry's leaf (its only child must be it).
  if (count === 1) return children[0]
  return makeBranch(bitmap, children)
}

/** The tree `node` (at `depth`) after the sorted, key-unique edits ops[lo..hi). */
export const applyOps = (
  node: Node | undefined,
  ops: ReadonlyArray<Op>,
  lo: number = 0,
  hi: number = ops.length,
  depth: number = 0
): Node | undefined => {
  if (lo >= hi) return node
  if (node === undefined) return build(ops, lo, hi, depth)
  if (node.kind === "leaf") return mergeIntoLeaf(node, ops, lo, hi, depth)
  return updateBranch(node, ops, lo, hi, depth)
}

/** The leaf for `key` (whose hash is `keyHash`), if present. */
export const lookup = (root: Node | undefined, key: string, keyHash: string): Leaf | undefined => {
  let node = root
  for (let depth = 0; node !== undefined; depth++) {
    if (node.kind === "leaf") return node.key === key ? node : undefined
    const bit = 1 << nibble(keyHash, depth)
    if ((node.bitmap & bit) === 0) return undefined
    node = node.children[popcount16(node.bitmap & (bit - 1))]
  }
  return undefined
}
