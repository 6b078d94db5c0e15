/**
 * Checks that a parsed metrics.jsonl object is a well-formed row of src/experiments/metrics.ts, field by
 * field, with every number inside the range its producer can give, and returns it typed; otherwise a
 * reason naming the first bad field and its value (load.ts adds file:line).
 *
 * Hand-written rather than a Schema: the report is read by people fixing a run, and "memoryFree.avgAtK
 * must be a finite number, got null" is what they need to see. The ranges are data (the *_RULES tables
 * below) so that src/experiments/summaryFile.ts checks summary.json's rows by the very same rules.
 *
 * A range must hold for every valid run, or a good run could never be reported: each rule says which
 * producer (actors/orchestrator/step.ts, actors/orchestrator/evaluate.ts, src/experiments/run.ts)
 * bounds it. A flipped byte that stays inside every range (0.25 read as 0.75) cannot be caught here.
 */
import type { ReflectorQuality } from "../protocol/metrics.ts"
import type { AccuracyAtK, EvalRow, MetricsRow, TrainRow } from "../protocol/metrics.ts"

/** Thrown inside this module only; load.ts turns it into a MetricsLineError with the file and line. */
export class RowShapeError extends Error {
  readonly _tag = "RowShapeError"
}

/** What a numeric field may hold: inclusive bounds, whether it must be an integer, and how a message says so. */
export interface NumberRule {
  readonly what: string
  readonly min: number
  readonly max: number
  readonly integer: boolean
}

const rule = (what: string, min: number, max: number, integer = false): NumberRule => ({ what, min, max, integer })

export const Rules = {
  /**
   * Accuracies, mean reward and fractions: means of verdict rewards (Domain.ts: each in [0, 1]) or
   * counts over totals. A float sum of n values <= 1 never exceeds n (rounding is monotone), so these
   * never exceed 1 even by a rounding error.
   */
  fraction: rule("in [0, 1]", 0, 1),
  /** pass@k - maj@k: evaluate.ts gives >= 0 (a solved majority answer is a pass); best@k - maj@k in general */
  headroom: rule("in [-1, 1]", -1, 1),
  positiveInt: rule("a positive integer", 1, Infinity, true),
  count: rule("a non-negative integer", 0, Infinity, true),
  /** memory version numbers: step.ts writes -1 for a method without memory, else a version's seq (>= 0) */
  version: rule("an integer >= -1", -1, Infinity, true),
  nonNegative: rule(">= 0", 0, Infinity),
  /**
   * Entropy -sum p log p (PolicyModel.entropy) over a float32 log-softmax: >= 0 in exact arithmetic;
   * rounding could put a near-certain token's log-prob a hair above 0, so the bound allows that much.
   */
  entropy: rule(">= 0", -1e-6, Infinity),
  /**
   * Loss (GRPO and distillation losses take either sign) and stage times: wall-clock differences of
   * Effect's Clock.currentTimeMillis, i.e. Date.now, which goes back when the system clock is set back.
   */
  finite: rule("a finite number", -Infinity, Infinity)
} as const

/** The numeric fields of T (the ones a rule table must cover). */
type NumericKeys<T> = { [K in keyof T]-?: T[K] extends number ? K : never }[keyof T]

export const ACCURACY_RULES = {
  k: Rules.positiveInt,
  avgAtK: Rules.fraction,
  passAtK: Rules.fraction,
  majAtK: Rules.fraction,
  headroom: Rules.headroom,
  greedy: Rules.fraction
} as const satisfies Record<NumericKeys<AccuracyAtK>, NumberRule>

export const TRAIN_RULES = {
  step: Rules.count,
  rewardMean: Rules.fraction,
  loss: Rules.finite,
  gradNorm: Rules.nonNegative,
  entropy: Rules.entropy,
  teacherFraction: Rules.fraction,
  everSolved: Rules.fraction,
  memoryVersionRead: Rules.version,
  memoryVersionNewest: Rules.version,
  memoryLag: Rules.count,
  rolloutPolicyVersion: Rules.count,
  rolloutLag: Rules.count,
  // rollouts or tokens over max(1, wall ms): run.ts keeps the divisor positive
  rolloutsPerSec: Rules.nonNegative,
  tokensPerSec: Rules.nonNegative
} as const satisfies Record<NumericKeys<TrainRow>, NumberRule>

export const MEMORY_SIZE_RULES = {
  experience: Rules.count,
  insights: Rules.count,
  behaviors: Rules.count
} as const satisfies Record<NumericKeys<TrainRow["memorySizes"]>, NumberRule>

/** Every entry of stageMs. */
export const STAGE_MS_RULE: NumberRule = Rules.finite

export const EVAL_RULES = {
  step: Rules.count,
  problems: Rules.count
} as const satisfies Record<NumericKeys<EvalRow>, NumberRule>

export const PROTOCOLS = ["internalization", "transfer"] as const satisfies ReadonlyArray<EvalRow["protocol"]>

type Obj = Readonly<Record<string, unknown>>

export const describeValue = (v: unknown): string =>
  v === undefined ? "nothing"
    : v === null ? "null" : Array.isArray(v) ? "an array" : typeof v === "string" ? JSON.stringify(v) : typeof v === "object" ? "an object" : String(v)

/** Why `v` breaks `r` ("must be in [0, 1], got 1.375"), or undefined when it keeps it. */
export const numberProblem = (v: unknown, r: NumberRule): string | undefined => {
  if (typeof v !== "number" || !Number.isFinite(v)) return `must be a finite number, got ${describeValue(v)}`
  if ((r.integer && !Number.isInteger(v)) || v < r.min || v > r.max) return `must be ${r.what}, got ${v}`
  return undefined
}

const obj = (v: unknown, path: string): Obj => {
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new RowShapeError(`${path} must be an object, got ${describeValue(v)}`)
  return v as Obj
}

const checked = (o: Obj, field: string, r: NumberRule, prefix = ""): number => {
  const v = o[field]
  const problem = numberProblem(v, r)
  if (problem !== undefined) throw new RowShapeError(`${prefix}${field} ${problem}`)
  return v as number
}

/**
 * A boolean flag; absent reads as false, because rows written before the flag existed lack it
 * (memoryLagClamped: run.ts counts only rows that say true).
 */
const flag = (o: Obj, field: string): boolean => {
  const v = o[field]
  if (v === undefined) return false
  if (typeof v !== "boolean") throw new RowShapeError(`${field} must be true or false, got ${describeValue(v)}`)
  return v
}

const accuracy = (v: unknown, path: string): AccuracyAtK => {
  const o = obj(v, path)
  const n = (f: keyof typeof ACCURACY_RULES) => checked(o, f, ACCURACY_RULES[f], `${path}.`)
  return { k: n("k"), avgAtK: n("avgAtK"), passAtK: n("passAtK"), majAtK: n("majAtK"), headroom: n("headroom"), greedy: n("greedy") }
}

// fields are read in the order run.ts writes them, so that the first bad one is the one reported
const trainRow = (o: Obj): TrainRow => {
  const n = (f: keyof typeof TRAIN_RULES) => checked(o, f, TRAIN_RULES[f])
  const step = n("step")
  const rewardMean = n("rewardMean")
  const loss = n("loss")
  const gradNorm = n("gradNorm")
  const entropy = n("entropy")
  const teacherFraction = n("teacherFraction")
  const everSolved = n("everSolved")
  const memoryVersionRead = n("memoryVersionRead")
  const memoryVersionNewest = n("memoryVersionNewest")
  const memoryLag = n("memoryLag")
  const memoryLagClamped = flag(o, "memoryLagClamped")
  const rolloutPolicyVersion = n("rolloutPolicyVersion")
  const rolloutLag = n("rolloutLag")
  const sizes = obj(o["memorySizes"], "memorySizes")
  const size = (f: keyof typeof MEMORY_SIZE_RULES) => checked(sizes, f, MEMORY_SIZE_RULES[f], "memorySizes.")
  const memorySizes = { experience: size("experience"), insights: size("insights"), behaviors: size("behaviors") }
  const rolloutsPerSec = n("rolloutsPerSec")
  const tokensPerSec = n("tokensPerSec")
  const stages = obj(o["stageMs"], "stageMs")
  const stageMs: Record<string, number> = {}
  for (const k of Object.keys(stages)) stageMs[k] = checked(stages, k, STAGE_MS_RULE, "stageMs.")
  return {
    kind: "train", step, rewardMean, loss, gradNorm, entropy, teacherFraction, everSolved, memoryVersionRead, memoryVersionNewest,
    memoryLag, memoryLagClamped, rolloutPolicyVersion, rolloutLag, memorySizes, rolloutsPerSec, tokensPerSec, stageMs,
    ...(o["diagnostics"] === undefined ? {} : { diagnostics: diagnostics(o["diagnostics"]) })
  }
}

/** TrainRow.diagnostics (actors/orchestrator/diagnostics.ts): finite numbers, or null where there was nothing to measure. */
const diagnostics = (v: unknown): Record<string, number | null> => {
  const o = obj(v, "diagnostics")
  const out: Record<string, number | null> = {}
  for (const k of Object.keys(o)) out[k] = o[k] === null ? null : checked(o, k, Rules.finite, "diagnostics.")
  return out
}

const evalRow = (o: Obj): EvalRow => {
  const step = checked(o, "step", EVAL_RULES.step)
  const protocol = o["protocol"]
  if (protocol !== "internalization" && protocol !== "transfer") {
    throw new RowShapeError(`protocol must be "internalization" or "transfer", got ${describeValue(protocol)}`)
  }
  const problems = checked(o, "problems", EVAL_RULES.problems)
  const aug = o["memoryAugmented"]
  return {
    kind: "eval",
    step,
    protocol,
    problems,
    memoryFree: accuracy(o["memoryFree"], "memoryFree"),
    memoryAugmented: aug === null || aug === undefined ? null : accuracy(aug, "memoryAugmented"),
    ...(o["reflector"] === undefined ? {} : { reflector: reflector(o["reflector"]) })
  }
}

/** The fields of EvalRow.reflector in the order src/memory/quality.ts writes them: counts, and fractions or null. */
const QUALITY_FIELDS = [
  ["strategies", "count"], ["strategyNamesSeparator", "fraction"], ["strategyNamesSkill", "fraction"], ["lessons", "count"],
  ["lessonAvoidsOwnSkill", "fraction"], ["skillBehaviors", "count"], ["skillBehaviorNamesClusterSkill", "fraction"],
  ["avoidBehaviors", "count"], ["avoidBehaviorNamesClusterSkill", "fraction"]
] as const satisfies ReadonlyArray<readonly [keyof ReflectorQuality, "count" | "fraction"]>

/** EvalRow.reflector (src/memory/quality.ts): counts, and fractions in [0, 1] or null (nothing to judge). */
const reflector = (v: unknown): ReflectorQuality => {
  const o = obj(v, "reflector")
  const out: Record<string, number | null> = {}
  for (const [f, kind] of QUALITY_FIELDS) out[f] = kind === "fraction" && o[f] === null ? null : checked(o, f, Rules[kind], "reflector.")
  return out as unknown as ReflectorQuality
}

/** A parsed JSON value as a metrics row, or a RowShapeError naming the first bad field and its value. */
export const toMetricsRow = (value: unknown): MetricsRow => {
  const o = obj(value, "row")
  const kind = o["kind"]
  if (kind === "train") return trainRow(o)
  if (kind === "eval") return evalRow(o)
  throw new RowShapeError(`kind must be "train" or "eval", got ${describeValue(kind)}`)
}
