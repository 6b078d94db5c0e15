/**
 * Checks that a parsed metrics.jsonl object is a well-formed row of src/experiments/metrics.ts, field by
 * field, and returns it typed; otherwise a reason naming the first bad field (load.ts adds file:line).
 *
 * Hand-written rather than a Schema: the report is read by people fixing a run, and "memoryFree.avgAtK
 * must be a finite number, got null" is what they need to see.
 */
import type { AccuracyAtK, EvalRow, MetricsRow, TrainRow } from "../experiments/metrics.ts"

/** Thrown inside this module only; load.ts turns it into a MetricsLineError with the file and line. */
export class RowShapeError extends Error {
  readonly _tag = "RowShapeError"
}

type Obj = Readonly<Record<string, unknown>>

const describe = (v: unknown): string =>
  v === null ? "null" : Array.isArray(v) ? "an array" : typeof v === "string" ? JSON.stringify(v) : typeof v === "object" ? "an object" : String(v)

const obj = (v: unknown, path: string): Obj => {
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new RowShapeError(`${path} must be an object, got ${describe(v)}`)
  return v as Obj
}

const num = (o: Obj, field: string, prefix = ""): number => {
  const v = o[field]
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new RowShapeError(`${prefix}${field} must be a finite number, got ${v === undefined ? "nothing" : describe(v)}`)
  }
  return v
}

const step = (o: Obj): number => {
  const s = num(o, "step")
  if (!Number.isInteger(s) || s < 0) throw new RowShapeError(`step must be a non-negative integer, got ${s}`)
  return s
}

const accuracy = (v: unknown, path: string): AccuracyAtK => {
  const o = obj(v, path)
  const p = `${path}.`
  return {
    k: num(o, "k", p),
    avgAtK: num(o, "avgAtK", p),
    passAtK: num(o, "passAtK", p),
    majAtK: num(o, "majAtK", p),
    headroom: num(o, "headroom", p),
    greedy: num(o, "greedy", p)
  }
}

const trainRow = (o: Obj): TrainRow => {
  const sizes = obj(o["memorySizes"], "memorySizes")
  const stages = obj(o["stageMs"], "stageMs")
  const stageMs: Record<string, number> = {}
  for (const k of Object.keys(stages)) stageMs[k] = num(stages, k, "stageMs.")
  return {
    kind: "train",
    step: step(o),
    rewardMean: num(o, "rewardMean"),
    loss: num(o, "loss"),
    gradNorm: num(o, "gradNorm"),
    entropy: num(o, "entropy"),
    teacherFraction: num(o, "teacherFraction"),
    everSolved: num(o, "everSolved"),
    memoryVersionRead: num(o, "memoryVersionRead"),
    memoryVersionNewest: num(o, "memoryVersionNewest"),
    memoryLag: num(o, "memoryLag"),
    rolloutPolicyVersion: num(o, "rolloutPolicyVersion"),
    rolloutLag: num(o, "rolloutLag"),
    memorySizes: {
      experience: num(sizes, "experience", "memorySizes."),
      insights: num(sizes, "insights", "memorySizes."),
      behaviors: num(sizes, "behaviors", "memorySizes.")
    },
    rolloutsPerSec: num(o, "rolloutsPerSec"),
    tokensPerSec: num(o, "tokensPerSec"),
    stageMs
  }
}

const evalRow = (o: Obj): EvalRow => {
  const protocol = o["protocol"]
  if (protocol !== "internalization" && protocol !== "transfer") {
    throw new RowShapeError(`protocol must be "internalization" or "transfer", got ${describe(protocol)}`)
  }
  const aug = o["memoryAugmented"]
  return {
    kind: "eval",
    step: step(o),
    protocol,
    problems: num(o, "problems"),
    memoryFree: accuracy(o["memoryFree"], "memoryFree"),
    memoryAugmented: aug === null || aug === undefined ? null : accuracy(aug, "memoryAugmented")
  }
}

/** A parsed JSON value as a metrics row, or a RowShapeError naming the first bad field. */
export const toMetricsRow = (value: unknown): MetricsRow => {
  const o = obj(value, "row")
  const kind = o["kind"]
  if (kind === "train") return trainRow(o)
  if (kind === "eval") return evalRow(o)
  throw new RowShapeError(`kind must be "train" or "eval", got ${kind === undefined ? "nothing" : describe(kind)}`)
}
