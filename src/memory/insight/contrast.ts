/**
 * Where a failed response departs from a successful one of the same problem: the contrast that both the
 * reflector's sharpened lessons (`ReflectConfig.lessons = "contrast"`, reflect.ts) and the per-step quality
 * figures (src/memory/stepQuality.ts) rest on. Pure. Responses are compared up to their first [EOS].
 *
 * Alignment: the failure f is aligned with the stored success s sharing its longest prefix (ties: the
 * smallest id, as the reflector's lessons do). Cut the common prefix (length d), then the common suffix
 * of what is left: s[d, sEnd) is what the success does where the failure went wrong, f[d, fEnd) what the
 * failure did instead. `dbl sq take 1` vs `comp dbl sq take 1`: s's region is empty (the failure
 * inserted `comp`), f's region is `comp`; the fixed window of the default lesson, `comp dbl sq`, would
 * also carry the success's own `dbl sq`.
 */
import { Control } from "../../domains/control.ts"
import type { ExperienceItem } from "../experience/experience.ts"
import { commonPrefix, containsGram } from "./ngrams.ts"

/** A response up to its first [EOS]. */
const body = (r: ReadonlyArray<number>): ReadonlyArray<number> => {
  const i = r.indexOf(Control.EOS)
  return i < 0 ? r : r.slice(0, i)
}

/** Where a failure departs from a success: [d, sEnd) in the success, [d, fEnd) in the failure. */
export interface Region {
  readonly success: ReadonlyArray<number>
  readonly failure: ReadonlyArray<number>
  readonly d: number
  readonly sEnd: number
  readonly fEnd: number
}

/** The separating region of `failure` against the success sharing its longest prefix (ties: smallest id). */
export const separatingRegion = (successes: ReadonlyArray<ExperienceItem>, failure: ReadonlyArray<number>): Region | undefined => {
  const f = body(failure)
  let best: { s: ReadonlyArray<number>; d: number; id: string } | undefined
  for (const x of successes) {
    const s = body(x.response)
    const d = commonPrefix(s, f)
    if (best === undefined || d > best.d || (d === best.d && x.id < best.id)) best = { s, d, id: x.id }
  }
  if (best === undefined) return undefined
  const { s, d } = best
  let e = 0
  while (d + e < s.length && d + e < f.length && s[s.length - 1 - e] === f[f.length - 1 - e]) e++
  return { success: s, failure: f, d, sEnd: s.length - e, fEnd: f.length - e }
}

/** Does `x` occur in `hay` at a span overlapping [from, to)? */
export const overlapsAt = (hay: ReadonlyArray<number>, x: ReadonlyArray<number>, from: number, to: number): boolean => {
  for (let i = Math.max(0, from - x.length + 1); i < to && i + x.length <= hay.length; i++) {
    let ok = true
    for (let j = 0; j < x.length && ok; j++) ok = hay[i + j] === x[j]
    if (ok) return true
  }
  return false
}

/** Does `lesson` repeat part of a success: a bigram of it (its token, when it has one) in some success? */
export const repeatsSuccess = (lesson: ReadonlyArray<number>, successes: ReadonlyArray<ExperienceItem>): boolean => {
  const n = Math.min(2, lesson.length)
  const bodies = successes.map((s) => body(s.response))
  for (let i = 0; i + n <= lesson.length; i++) {
    const g = lesson.slice(i, i + n)
    if (bodies.some((b) => containsGram(b, g))) return true
  }
  return false
}
