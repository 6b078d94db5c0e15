/**
 * Structural diff between two PMaps, and its inverse `applyDiff`.
 *
 * `diff` walks both tries together and skips every pair of subtrees with equal ids, so its cost is
 * O(changed entries * depth), not O(size): two versions that differ in one key compare in a handful of
 * node visits. Entries come out sorted by key; values are fresh decoded copies.
 * `applyDiff(a, diff(a, b))` equals `b` (same id). It checks that `a` really is the diff's base (each
 * removed or changed key must hold its old value, each added key must be absent) and raises DiffConflict
 * otherwise, rather than producing a map that matches neither side.
 */
import { compareStrings } from "../../core/Order.ts"
import { DiffConflict } from "./errors.ts"
import { forEachLeaf, type Leaf, makeLeaf, type Node, popcount16 } from "./node.ts"
import { decodeValue, type Edit, PMap, valueBytes } from "./PMap.ts"

export interface Diff<V = unknown> {
  readonly added: ReadonlyArray<{ readonly key: string; readonly value: V }>
  readonly removed: ReadonlyArray<{ readonly key: string; readonly value: V }>
  readonly changed: ReadonlyArray<{ readonly key: string; readonly before: V; readonly after: V }>
}

const childAt = (node: Node & { kind: "branch" }, nib: number): Node | undefined => {
  const bit = 1 << nib
  return (node.bitmap & bit) === 0 ? undefined : node.children[popcount16(node.bitmap & (bit - 1))]
}

/** Leaves only in `a`, only in `b`, and in both with different values (pairs of leaves). */
interface Raw {
  readonly removed: Array<Leaf>
  readonly added: Array<Leaf>
  readonly changed: Array<readonly [Leaf, Leaf]>
}

const leavesOf = (node: Node | undefined): Map<string, Leaf> => {
  const m = new Map<string, Leaf>()
  forEachLeaf(node, (l) => m.set(l.key, l))
  return m
}

const walk = (a: Node | undefined, b: Node | undefined, out: Raw): void => {
  if (a === b || (a !== undefined && b !== undefined && a.hex === b.hex)) return
  if (a !== undefined && b !== undefined && a.kind === "branch" && b.kind === "branch") {
    for (let nib = 0; nib < 16; nib++) walk(childAt(a, nib), childAt(b, nib), out)
    return
  }
  // At least one side is a leaf or absent: the subtrees are small on that side, compare by key.
  const left = leavesOf(a)
  const right = leavesOf(b)
  for (const [key, l] of left) {
    const r = right.get(key)
    if (r === undefined) out.removed.push(l)
    else if (r.hex !== l.hex) out.changed.push([l, r])
  }
  for (const [key, r] of right) if (!left.has(key)) out.added.push(r)
}

/** What changed from `a` to `b`, sorted by key. Empty when the ids are equal. */
export const diff = <V>(a: PMap<V>, b: PMap<V>): Diff<V> => {
  const raw: Raw = { removed: [], added: [], changed: [] }
  walk(a.root, b.root, raw)
  const byKey = (x: Leaf, y: Leaf) => compareStrings(x.key, y.key)
  return {
    added: raw.added.sort(byKey).map((l) => ({ key: l.key, value: decodeValue<V>(l.value) })),
    removed: raw.removed.sort(byKey).map((l) => ({ key: l.key, value: decodeValue<V>(l.value) })),
    changed: raw.changed
      .sort((x, y) => byKey(x[0], y[0]))
      .map(([l, r]) => ({ key: l.key, before: decodeValue<V>(l.value), after: decodeValue<V>(r.value) }))
  }
}

/** True when the diff has no entries. */
export const isEmptyDiff = (d: Diff<unknown>): boolean =>
  d.added.length === 0 && d.removed.length === 0 && d.changed.length === 0

/** `a` with the diff applied; DiffConflict if `a` is not the diff's base. */
export const applyDiff = <V>(a: PMap<V>, d: Diff<V>): PMap<V> => {
  const holds = (key: string, value: V, what: string) => {
    const id = a.entryId(key)
    if (id === undefined) throw new DiffConflict(key, `${what} key is absent from the base`)
    if (id !== makeLeaf(key, valueBytes(key, value)).hex) throw new DiffConflict(key, `${what} key holds another value`)
  }
  const edits: Array<Edit<V>> = []
  for (const { key, value } of d.removed) {
    holds(key, value, "removed")
    edits.push({ key, delete: true })
  }
  for (const { key, before, after } of d.changed) {
    holds(key, before, "changed")
    edits.push({ key, value: after })
  }
  for (const { key, value } of d.added) {
    if (a.has(key)) throw new DiffConflict(key, "added key is already present in the base")
    edits.push({ key, value })
  }
  return a.update(edits)
}

