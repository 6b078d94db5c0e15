/**
 * Token n-gram helpers for the reflector and the consolidator: enumeration, containment, alignment.
 * N-grams are keyed by a string (`"5,17,30"`) so they can live in Maps and sort canonically.
 */

export const gramKey = (tokens: ReadonlyArray<number>): string => tokens.join(",")
export const gramOf = (key: string): Array<number> => (key === "" ? [] : key.split(",").map(Number))

/** Distinct n-grams (minN..maxN) of a sequence that avoid `skip` tokens, with their first position. */
export const gramsOf = (
  tokens: ReadonlyArray<number>,
  minN: number,
  maxN: number,
  skip: ReadonlySet<number>
): Map<string, number> => {
  const out = new Map<string, number>()
  for (let s = 0; s < tokens.length; s++) {
    for (let n = minN; n <= maxN && s + n <= tokens.length; n++) {
      if (skip.has(tokens[s + n - 1]!)) break
      if (skip.has(tokens[s]!)) break
      const key = gramKey(tokens.slice(s, s + n))
      if (!out.has(key)) out.set(key, s)
    }
  }
  return out
}

/** Does `hay` contain `needle` as a contiguous sub-sequence? */
export const containsGram = (hay: ReadonlyArray<number>, needle: ReadonlyArray<number>): boolean => {
  if (needle.length === 0) return true
  outer: for (let s = 0; s + needle.length <= hay.length; s++) {
    for (let i = 0; i < needle.length; i++) if (hay[s + i] !== needle[i]) continue outer
    return true
  }
  return false
}

/** Length of the common prefix: the earliest step at which two sequences diverge. */
export const commonPrefix = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): number => {
  let i = 0
  while (i < a.length && i < b.length && a[i] === b[i]) i++
  return i
}

/** Lexicographic comparison of token sequences (shorter prefix first). */
export const compareTokens = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): number => {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}
