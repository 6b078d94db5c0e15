/**
 * Canonical ordering for merging messages from several senders (ARCHITECTURE.md §4 rule 2):
 * an actor that receives from many senders sorts by ids, never by arrival.
 */

/** Total order on strings by UTF-16 code units (locale-free, unlike localeCompare). */
export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** Lexicographic order on tuples of numbers/strings (numbers before strings at a mixed position). */
export const compareKeys = (a: ReadonlyArray<string | number>, b: ReadonlyArray<string | number>): number => {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a[i]!
    const y = b[i]!
    if (x === y) continue
    if (typeof x === "number" && typeof y === "number") return x - y
    if (typeof x === "number") return -1
    if (typeof y === "number") return 1
    return compareStrings(x, y)
  }
  return a.length - b.length
}

/** A sorted copy of `xs`, ordered by the key tuple `keyOf` gives each item. Stable. */
export const sortByKey = <A>(xs: ReadonlyArray<A>, keyOf: (a: A) => ReadonlyArray<string | number>): Array<A> =>
  xs.map((x, i) => ({ x, k: keyOf(x), i }))
    .sort((p, q) => compareKeys(p.k, q.k) || p.i - q.i)
    .map((e) => e.x)

/** Merge several batches received in any order into one canonically ordered list. */
export const mergeCanonical = <A>(
  batches: ReadonlyArray<ReadonlyArray<A>>,
  keyOf: (a: A) => ReadonlyArray<string | number>
): Array<A> => sortByKey(batches.flat(), keyOf)
