/**
 * The end-to-end check on a verdict: a digest taken where the verdict was computed (the worker) and
 * re-taken where it is used (the pool). A verdict damaged on the way, which is what the "flaky" fault
 * simulates, fails the comparison and the check is retried instead of being counted.
 *
 * It guards against accidents, not adversaries: two 32-bit FNV-1a hashes (different offsets) over a
 * fixed field order, 64 bits in all. A sha-256 cost ~17 us per verdict on each side, more than the check.
 */
import type { Verdict } from "../../src/domains/Domain.ts"

const fnv1a = (s: string, offset: number): number => {
  let h = offset
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

export const verdictDigest = (v: Verdict): string => {
  const s = `${v.reward}|${v.passed}|${v.total}|${v.solved}|${v.feedback.join(",")}|${v.error ?? ""}`
  return fnv1a(s, 0x811c9dc5).toString(16).padStart(8, "0") + fnv1a(s, 0x2f3c5a71).toString(16).padStart(8, "0")
}
