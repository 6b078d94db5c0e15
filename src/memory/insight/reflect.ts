/**
 * The reflector: turns one problem's experience into candidate insights. It stands in for PMD's LLM
 * reflection (§3, App. B: strategies from successes, lessons from failures, a contrastive prompt when
 * both exist) with an explicit analysis of token sequences:
 *
 * - Strategies (successes present): token n-grams (minN..maxN) that occur in at least `minShare` of the
 *   stored successes and, in contrastive mode, in none of the failures. Ranked by success support, then
 *   length, then earliest position, then tokens; an n-gram inside (or containing) a higher-ranked pick is
 *   skipped, so picks are distinct sub-procedures. With one success and no failure this degrades to the
 *   success's leading n-grams (a literal, not an abstraction).
 * - Lessons, contrastive (both present): each failure (by id) is aligned with the success sharing its
 *   longest prefix (ties: smallest id); at the earliest divergent step d the failure's window
 *   failure[d, d + window) is the pattern to avoid, reported with that failure's feedback. Windows that
 *   also occur in some success are not mistakes and are dropped.
 * - Lessons, failures only: n-grams shared by at least two failures (a recurring mistake), else each
 *   failure's leading window; with the feedback of the first failure (by id) that contains it.
 * - Confidence = solved / attempts of the problem (monotone counters of ProblemExperience), the paper's
 *   "n_success of n_total attempts correct"; every insight of one reflection shares it.
 * - Provenance: the rollout ids whose responses contain the pattern (strategies), or the failure it came
 *   from; with the write's step and policy version.
 *
 * What it cannot capture: anything not visible as a contiguous shared token pattern — reasons, causal
 * explanations, non-contiguous or reordered procedures, generalisation to "why". It never invents a
 * token that no rollout produced. Anti-shortcut rules are moot: there is no text to cheat with.
 */
import { compareStrings } from "../../core/Order.ts"
import type { ExperienceItem, ProblemExperience } from "../experience/experience.ts"
import type { Sources, WriteContext } from "../types.ts"
import { sortedDistinct } from "../types.ts"
import { repeatsSuccess, separatingRegion } from "./contrast.ts"
import { commonPrefix, compareTokens, containsGram, gramOf, gramsOf } from "./ngrams.ts"

export type InsightKind = "strategy" | "lesson"

/** A candidate insight, before the novelty gate of the insight store. */
export interface InsightCandidate {
  readonly kind: InsightKind
  /** The sub-procedure to use (strategy) or the pattern to avoid (lesson). */
  readonly tokens: ReadonlyArray<number>
  /** Feedback that accompanied the failure (lessons), else empty. */
  readonly feedback: ReadonlyArray<number>
  readonly contrastive: boolean
  readonly confidence: number
  readonly sources: Sources
}

export interface ReflectConfig {
  readonly minN: number
  readonly maxN: number
  /** Fraction of successes a strategy n-gram must occur in. */
  readonly minShare: number
  /** Length of the failure window at the divergent step. */
  readonly window: number
  readonly maxStrategies: number
  readonly maxLessons: number
  /** Tokens that never appear inside an extracted pattern (padding, EOS, ...). */
  readonly skip: ReadonlyArray<number>
  /**
   * How lessons are drawn (absent = "window"). "window": the fixed window at the divergent step, and
   * lessons from failures alone (the header). "contrast" (`memory.sharpen`, issue #13): only where a success
   * exists, each failure's own separating region (contrast.ts: the failure's tokens between the common
   * prefix and the common suffix of its aligned success, at most `window` of them), dropped when it repeats
   * a bigram of a success. Measured on real runs, the fixed window carried the problem's own skill into
   * "[AVOID]" (`comp dbl sq` on a `dbl sq` problem), and failures alone share mostly the skill they got
   * right (their common n-gram), so without a success a lesson cannot tell the mistake from the skill.
   * "none": no lessons at all. Measured (docs/findings/memory-to-student.md §6): "contrast" makes EI worse
   * and "none" brings EI level with E, because the committed base was warmed up on lessons cut from
   * one-edit corruptions of the reference solution and reads a lesson's ops as the solution's.
   */
  readonly lessons?: "window" | "contrast" | "none"
}

export const defaultReflectConfig: ReflectConfig = {
  minN: 2, maxN: 4, minShare: 0.5, window: 3, maxStrategies: 3, maxLessons: 3, skip: [0, 1, 2]
}

interface Ranked {
  readonly tokens: Array<number>
  readonly support: number
  readonly pos: number
}

const rankAndPick = (cands: Array<Ranked>, max: number): Array<Ranked> => {
  cands.sort((a, b) => b.support - a.support || b.tokens.length - a.tokens.length || a.pos - b.pos || compareTokens(a.tokens, b.tokens))
  const picked: Array<Ranked> = []
  for (const c of cands) {
    if (picked.length >= max) break
    if (picked.some((p) => containsGram(p.tokens, c.tokens) || containsGram(c.tokens, p.tokens))) continue
    picked.push(c)
  }
  return picked
}

const confidenceOf = (exp: ProblemExperience): number => (exp.attempts === 0 ? 0 : exp.solved / exp.attempts)

const strategies = (exp: ProblemExperience, cfg: ReflectConfig, skip: ReadonlySet<number>): Array<Ranked & { ids: Array<string> }> => {
  const S = exp.successes
  const F = exp.failures
  const support = new Map<string, { n: number; pos: number; ids: Array<string> }>()
  for (const s of S) {
    for (const [key, pos] of gramsOf(s.response, cfg.minN, cfg.maxN, skip)) {
      const e = support.get(key)
      if (e) {
        e.n++
        e.pos += pos
        e.ids.push(s.id)
      } else support.set(key, { n: 1, pos, ids: [s.id] })
    }
  }
  const need = Math.max(1, Math.ceil(cfg.minShare * S.length))
  const cands: Array<Ranked & { ids: Array<string> }> = []
  for (const key of [...support.keys()].sort(compareStrings)) {
    const e = support.get(key)!
    if (e.n < need) continue
    const tokens = gramOf(key)
    if (F.some((f) => containsGram(f.response, tokens))) continue
    cands.push({ tokens, support: e.n, pos: e.pos / e.n, ids: e.ids })
  }
  return rankAndPick(cands, cfg.maxStrategies) as Array<Ranked & { ids: Array<string> }>
}

const stripSkip = (xs: ReadonlyArray<number>, skip: ReadonlySet<number>): Array<number> => {
  const out: Array<number> = []
  for (const x of xs) {
    if (skip.has(x)) break
    out.push(x)
  }
  return out
}

const lessons = (exp: ProblemExperience, cfg: ReflectConfig, skip: ReadonlySet<number>): Array<{ tokens: Array<number>; from: ExperienceItem; ids: Array<string> }> => {
  const S = exp.successes
  const F = exp.failures
  const out: Array<{ tokens: Array<number>; from: ExperienceItem; ids: Array<string> }> = []
  const seen = new Set<string>()
  const push = (tokens: Array<number>, from: ExperienceItem, ids: Array<string>) => {
    const key = tokens.join(",")
    if (tokens.length === 0 || seen.has(key) || out.length >= cfg.maxLessons) return
    seen.add(key)
    out.push({ tokens, from, ids })
  }
  if (cfg.lessons === "contrast") {
    if (S.length === 0) return out
    for (const f of F) {
      const r = separatingRegion(S, f.response)
      if (r === undefined) continue
      const w = stripSkip(r.failure.slice(r.d, Math.min(r.fEnd, r.d + cfg.window)), skip)
      if (w.length === 0 || repeatsSuccess(w, S)) continue
      push(w, f, [f.id])
    }
    return out
  }
  if (S.length > 0) {
    for (const f of F) {
      let d = -1
      for (const s of S) d = Math.max(d, commonPrefix(f.response, s.response))
      const w = stripSkip(f.response.slice(Math.max(0, d), d + cfg.window), skip)
      if (w.length === 0 || S.some((s) => containsGram(s.response, w))) continue
      push(w, f, [f.id])
    }
    return out
  }
  const support = new Map<string, Array<ExperienceItem>>()
  for (const f of F) {
    for (const key of gramsOf(f.response, cfg.minN, cfg.maxN, skip).keys()) {
      const xs = support.get(key)
      if (xs) xs.push(f)
      else support.set(key, [f])
    }
  }
  const shared = [...support.entries()].filter(([, xs]) => xs.length >= 2)
    .map(([k, xs]) => ({ tokens: gramOf(k), support: xs.length, pos: 0, xs }))
  const picked = rankAndPick(shared, cfg.maxLessons) as Array<Ranked & { xs: Array<ExperienceItem> }>
  for (const p of picked) push(p.tokens, p.xs[0]!, p.xs.map((x) => x.id))
  for (const f of F) push(stripSkip(f.response.slice(0, cfg.window), skip), f, [f.id])
  return out
}

/** Candidate insights of one problem's experience (pure; deterministic; order of items irrelevant). */
export const reflect = (exp: ProblemExperience, ctx: WriteContext, config: ReflectConfig = defaultReflectConfig): Array<InsightCandidate> => {
  const skip = new Set(config.skip)
  const contrastive = exp.successes.length > 0 && exp.failures.length > 0
  const confidence = confidenceOf(exp)
  const src = (ids: ReadonlyArray<string>): Sources => ({ rolloutIds: sortedDistinct(ids), policyVersion: ctx.policyVersion, step: ctx.step })
  const out: Array<InsightCandidate> = []
  if (exp.successes.length > 0) {
    for (const s of strategies(exp, config, skip)) {
      out.push({ kind: "strategy", tokens: s.tokens, feedback: [], contrastive, confidence, sources: src(s.ids) })
    }
  }
  if (exp.failures.length > 0 && config.lessons !== "none") {
    for (const l of lessons(exp, config, skip)) {
      out.push({ kind: "lesson", tokens: l.tokens, feedback: [...l.from.feedback], contrastive, confidence, sources: src(l.ids) })
    }
  }
  return out
}
