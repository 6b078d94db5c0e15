/**
 * Compact, deterministic text for memory values in a counterexample: one line per record, embeddings
 * left out (they are derived from tokens), long outputs cut. What a failing battery prints.
 */
import type { Behavior, BehaviorBank } from "../memory/behavior/behavior.ts"
import type { Attempt, ProblemExperience } from "../memory/experience/experience.ts"
import type { Insight, ProblemInsights } from "../memory/insight/insights.ts"
import type { RolloutGroup } from "../memory/pipeline.ts"

const toks = (t: ReadonlyArray<number>) => `[${t.join(" ")}]`
const ids = (xs: ReadonlyArray<string>) => (xs.length <= 6 ? xs.join(",") : `${xs.slice(0, 6).join(",")},…(${xs.length})`)

export const showBehavior = (b: Behavior): string =>
  `${b.id} ${b.kind} ${toks(b.tokens)} problems ${ids(b.problemIds)} support ${b.support} hits ${b.hits} successes ${b.successes} from ${ids(b.sources.rolloutIds)}`

export const showBank = (bank: BehaviorBank, indent = "    "): string =>
  bank.behaviors.length === 0 && bank.retired.length === 0 ? `${indent}(empty)`
    : [...bank.behaviors.map((b) => `${indent}${showBehavior(b)}`), ...(bank.retired.length > 0 ? [`${indent}retired: ${bank.retired.join(" ")}`] : [])].join("\n")

export const showInsight = (i: Insight): string => `${i.id} ${i.kind} ${toks(i.tokens)} support ${i.support} from ${ids(i.sources.rolloutIds)}`

export const showInsights = (p: ProblemInsights, indent = "    "): string =>
  p.strategies.length + p.lessons.length === 0 ? `${indent}${p.problemId}: (none)`
    : [...p.strategies, ...p.lessons].map((i) => `${indent}${p.problemId}: ${showInsight(i)}`).join("\n")

const showAttempt = (a: Attempt | ProblemExperience["successes"][number]): string =>
  `${a.prov.rolloutId} ${a.success ? "ok  " : "fail"} ${toks(a.response)}${a.feedback.length > 0 ? ` feedback ${toks(a.feedback)}` : ""}`

export const showExperience = (e: ProblemExperience, indent = "    "): string =>
  [`${indent}${e.problemId}: attempts ${e.attempts} solved ${e.solved}`, ...[...e.successes, ...e.failures].map((a) => `${indent}  ${showAttempt(a)}`)].join("\n")

export const showGroups = (groups: ReadonlyArray<RolloutGroup>, indent = "    "): string =>
  groups.length === 0 ? `${indent}(no rollouts)` : groups.map((g) => [`${indent}${g.problemId}:`, ...g.attempts.map((a) => `${indent}  ${showAttempt(a)}`)].join("\n")).join("\n")

/** Cuts a long text at `max` characters, saying how much was left out. */
export const clip = (text: string, max = 6000): string => (text.length <= max ? text : `${text.slice(0, max)}\n… (${text.length - max} more characters)`)
