/**
 * Abstraction: a cluster's insights -> candidate behaviors. Stands in for PMD's LLM behavior
 * extraction ("3-8 behaviors per cluster", App. B) with counting:
 *
 * - every n-gram (minN..maxN) of a member problem's strategy tokens is a skill candidate, every n-gram of
 *   its lesson tokens an avoid candidate; support = number of distinct member problems that have it;
 * - a skill that occurs in more problems' lessons than strategies (over all clustered problems) is
 *   contradicted and not proposed (likewise an avoid pattern that is mostly a strategy);
 * - candidates with support >= minSupport, ranked by support, kind (skills first), length, tokens; an
 *   n-gram contained in (or containing) a higher-ranked pick of the same kind is skipped; at most
 *   maxPerCluster; if fewer than minPerCluster qualify, support-1 candidates fill up (cold start "3-8").
 * Provenance: the union of the sources of the insights containing the pattern.
 * Insight lists are read in id order, so the result is independent of their arrival order.
 */
import { compareStrings } from "../../core/Order.ts"
import type { Insight, ProblemInsights } from "../insight/insights.ts"
import { compareTokens, containsGram, gramOf, gramsOf } from "../insight/ngrams.ts"
import { sortedDistinct } from "../types.ts"
import type { BehaviorKind } from "./behavior.ts"

export interface AbstractConfig {
  readonly minN: number
  readonly maxN: number
  readonly minSupport: number
  readonly minPerCluster: number
  readonly maxPerCluster: number
  /**
   * When an avoid pattern is contradicted: "majority" (found in more problems' strategies than lessons,
   * the default) or "any-strategy" (found in any problem's strategy: a pattern that ever solved a problem
   * is no mistake to avoid; issue #13 measured that most avoid behaviors named some cluster's skill).
   */
  readonly avoidContradiction?: "majority" | "any-strategy"
  /**
   * Which kinds are proposed (absent = "both"). "skill" (`memory.sharpen = "all"`, issue #13): no avoid
   * behaviors. Measured on real runs, about two thirds of the avoid behaviors contained some cluster's
   * skill (another cluster's failures are often a right skill on the wrong problem), and the base was
   * warmed up on skill [BEH] items only, so it reads a [BEH] item as "use these ops". Measured, it does not
   * help by itself: retrieval rarely brings a problem's own skill (docs/findings/memory-to-student.md §6).
   */
  readonly kinds?: "both" | "skill"
}

export const defaultAbstractConfig: AbstractConfig = { minN: 2, maxN: 4, minSupport: 2, minPerCluster: 3, maxPerCluster: 8 }

export interface Candidate {
  readonly kind: BehaviorKind
  readonly tokens: ReadonlyArray<number>
  readonly problemIds: ReadonlyArray<string>
  readonly rolloutIds: ReadonlyArray<string>
  readonly cluster: string
}

/** Per n-gram: problems whose strategies / lessons contain it (over every clustered problem). */
export interface GramEvidence {
  readonly strategy: Map<string, Set<string>>
  readonly lesson: Map<string, Set<string>>
}

const NO_SKIP: ReadonlySet<number> = new Set()

const gramsOfInsight = (i: Insight, cfg: AbstractConfig): Array<string> =>
  [...gramsOf(i.tokens, cfg.minN, cfg.maxN, NO_SKIP).keys()]

export const collectEvidence = (all: ReadonlyArray<ProblemInsights>, cfg: AbstractConfig): GramEvidence => {
  const ev: GramEvidence = { strategy: new Map(), lesson: new Map() }
  for (const p of all) {
    for (const [list, m] of [[p.strategies, ev.strategy], [p.lessons, ev.lesson]] as const) {
      for (const ins of list) {
        for (const g of gramsOfInsight(ins, cfg)) {
          const s = m.get(g)
          if (s) s.add(p.problemId)
          else m.set(g, new Set([p.problemId]))
        }
      }
    }
  }
  return ev
}

/** Is this pattern contradicted by the evidence (used more as the opposite kind, or see avoidContradiction)? */
export const contradicted = (kind: BehaviorKind, tokens: ReadonlyArray<number>, ev: GramEvidence, rule: AbstractConfig["avoidContradiction"] = "majority"): boolean => {
  const key = tokens.join(",")
  const pro = (kind === "skill" ? ev.strategy : ev.lesson).get(key)?.size ?? 0
  const con = (kind === "skill" ? ev.lesson : ev.strategy).get(key)?.size ?? 0
  return kind === "avoid" && rule === "any-strategy" ? con > 0 : con > pro
}

interface Acc {
  problems: Set<string>
  rollouts: Set<string>
}

/** Candidate behaviors of one cluster, ranked (best first). */
export const abstractCluster = (
  cluster: string,
  members: ReadonlyArray<ProblemInsights>,
  ev: GramEvidence,
  cfg: AbstractConfig = defaultAbstractConfig
): Array<Candidate> => {
  const acc = new Map<string, Acc>()
  const sortedMembers = [...members].sort((a, b) => compareStrings(a.problemId, b.problemId))
  for (const p of sortedMembers) {
    const lists = cfg.kinds === "skill" ? [["skill", p.strategies]] as const : [["skill", p.strategies], ["avoid", p.lessons]] as const
    for (const [kind, list] of lists) {
      for (const ins of [...list].sort((a, b) => compareStrings(a.id, b.id))) {
        for (const g of gramsOfInsight(ins, cfg)) {
          const k = `${kind}:${g}`
          let a = acc.get(k)
          if (!a) acc.set(k, (a = { problems: new Set(), rollouts: new Set() }))
          a.problems.add(p.problemId)
          for (const r of ins.sources.rolloutIds) a.rollouts.add(r)
        }
      }
    }
  }
  const all: Array<Candidate> = []
  for (const [k, a] of acc) {
    const at = k.indexOf(":")
    const kind = k.slice(0, at) as BehaviorKind
    const tokens = gramOf(k.slice(at + 1))
    if (contradicted(kind, tokens, ev, cfg.avoidContradiction)) continue
    all.push({ kind, tokens, problemIds: sortedDistinct(a.problems), rolloutIds: sortedDistinct(a.rollouts), cluster })
  }
  const kindRank = (c: Candidate) => (c.kind === "skill" ? 0 : 1)
  all.sort((a, b) =>
    b.problemIds.length - a.problemIds.length || kindRank(a) - kindRank(b) ||
    b.tokens.length - a.tokens.length || compareTokens(a.tokens, b.tokens))
  const picked: Array<Candidate> = []
  const pick = (c: Candidate) => {
    if (picked.some((p) => p.kind === c.kind && (containsGram(p.tokens, c.tokens) || containsGram(c.tokens, p.tokens)))) return
    picked.push(c)
  }
  for (const c of all) if (picked.length < cfg.maxPerCluster && c.problemIds.length >= cfg.minSupport) pick(c)
  for (const c of all) if (picked.length < cfg.minPerCluster && c.problemIds.length < cfg.minSupport) pick(c)
  return picked
}
