/**
 * summary.json read back with its integrity checked: an Effect Schema of the `Summary` that run.ts
 * writes, whose final train / eval rows obey the same value ranges as metrics.jsonl rows (the rule
 * tables of src/report/validate.ts), whose hashes are sha-256 hex, and whose final evaluation is one
 * row per protocol at one step. Any damage is a SummaryFileError naming the file and the field
 * ("final.eval[0].memoryFree.greedy: must be in [0, 1], got 1.375"), never a wrong number shown as a result.
 *
 * Extra fields are ignored (as for metrics rows): a field added by a newer writer is not damage.
 */
import { Effect, Exit, Option, Schema, SchemaIssue } from "effect"
import { readFileSync } from "node:fs"
import { RunConfig } from "../config/RunConfig.ts"
import {
  ACCURACY_RULES, EVAL_RULES, MEMORY_SIZE_RULES, type NumberRule, numberProblem, PROTOCOLS, Rules, STAGE_MS_RULE, TRAIN_RULES
} from "../report/validate.ts"
import type { Summary } from "./run.ts"

/** summary.json is missing, unreadable, not JSON, or holds a bad field (the CLI maps it to exit 2). */
export class SummaryFileError extends Schema.TaggedError<SummaryFileError>()("SummaryFileError", { file: Schema.String, problem: Schema.String }) {
  override get message(): string {
    return `${this.file}: ${this.problem}`
  }
}

/** A number kept by one rule of validate.ts, with that module's message. */
const numberField = (r: NumberRule) => Schema.Number.check(Schema.makeFilter((n: number) => numberProblem(n, r)))

const numberFields = <K extends string>(rules: Readonly<Record<K, NumberRule>>): { readonly [P in K]: Schema.Number } => {
  const out = {} as Record<K, Schema.Number>
  for (const k of Object.keys(rules) as Array<K>) out[k] = numberField(rules[k])
  return out
}

/** sha-256 as written by src/core/Hash.ts: 64 lowercase hex digits. */
const Sha256Hex = Schema.String.check(Schema.makeFilter((s: string) => /^[0-9a-f]{64}$/.test(s) || `must be 64 lowercase hex digits (a sha-256), got ${JSON.stringify(s)}`))

/** keeper.contentId(): the newest memory version ("empty" before any commit), plus the Memp items when in use. */
const MemoryId = Schema.String.check(Schema.makeFilter((s: string) =>
  /^(empty|[0-9a-f]{64})(\+memp:.*)?$/s.test(s) || `must be a memory version id ("empty" or 64 hex digits, then an optional "+memp:..."), got ${JSON.stringify(s)}`))

const Accuracy = Schema.Struct(numberFields(ACCURACY_RULES))

export const TrainRowSchema = Schema.Struct({
  kind: Schema.Literal("train"),
  ...numberFields(TRAIN_RULES),
  // absent in rows written before the flag existed (as in validate.ts)
  memoryLagClamped: Schema.Boolean.pipe(Schema.withDecodingDefaultTypeKey(Effect.succeed(false))),
  memorySizes: Schema.Struct(numberFields(MEMORY_SIZE_RULES)),
  stageMs: Schema.Record(Schema.String, numberField(STAGE_MS_RULE)),
  diagnostics: Schema.optionalKey(Schema.Record(Schema.String, Schema.NullOr(numberField(Rules.finite))))
})

const count = numberField(Rules.count)
const fractionOrNull = Schema.NullOr(numberField(Rules.fraction))

/** EvalRow.reflector (src/memory/quality.ts), as validate.ts checks it in metrics.jsonl. */
const ReflectorSchema = Schema.Struct({
  strategies: count, strategyNamesSeparator: fractionOrNull, strategyNamesSkill: fractionOrNull,
  lessons: count, lessonAvoidsOwnSkill: fractionOrNull,
  skillBehaviors: count, skillBehaviorNamesClusterSkill: fractionOrNull,
  avoidBehaviors: count, avoidBehaviorNamesClusterSkill: fractionOrNull
})

export const EvalRowSchema = Schema.Struct({
  kind: Schema.Literal("eval"),
  ...numberFields(EVAL_RULES),
  protocol: Schema.Literals(PROTOCOLS),
  memoryFree: Accuracy,
  memoryAugmented: Schema.NullOr(Accuracy),
  reflector: Schema.optionalKey(ReflectorSchema)
})

/**
 * The final rows are one evaluation (one row per protocol, all at one step) and the train row of the
 * last step, which that evaluation does not come after. Their steps are not tied to `steps`: a resume
 * that finds nothing left to do takes them from metrics.jsonl (or has none), and a fork may lower `steps`
 * below its checkpoint.
 */
type FinalRows = { readonly final: { readonly train: { readonly step: number } | null; readonly eval: ReadonlyArray<{ readonly step: number; readonly protocol: string }> } }
const oneFinalEvaluation = Schema.makeFilter((s: FinalRows) => {
  const issues: Array<Schema.FilterIssue> = []
  const protocols = new Set<string>()
  s.final.eval.forEach((row, i) => {
    const at = (field: string) => ["final", "eval", i, field]
    const evalStep = s.final.eval[0]!.step
    if (row.step !== evalStep) issues.push({ path: at("step"), issue: `must equal final.eval[0].step (${evalStep}), got ${row.step}` })
    else if (s.final.train !== null && row.step > s.final.train.step) {
      issues.push({ path: at("step"), issue: `must not be after final.train.step (${s.final.train.step}), got ${row.step}` })
    }
    if (protocols.has(row.protocol)) issues.push({ path: at("protocol"), issue: `${row.protocol} appears twice` })
    protocols.add(row.protocol)
  })
  return issues
})

export const SummarySchema = Schema.Struct({
  seed: RunConfig.fields.seed,
  method: RunConfig.fields.method,
  domain: RunConfig.fields.domain,
  configHash: Sha256Hex,
  baseRecipeHash: Schema.NullOr(Sha256Hex),
  steps: RunConfig.fields.steps,
  finalStateHash: Sha256Hex,
  policyHash: Sha256Hex,
  memoryId: MemoryId,
  final: Schema.Struct({ train: Schema.NullOr(TrainRowSchema), eval: Schema.Array(EvalRowSchema) }),
  // absent in summaries written before the count existed
  memoryLagClampedSteps: numberField(Rules.count).pipe(Schema.withDecodingDefaultTypeKey(Effect.succeed(0)))
}).check(oneFinalEvaluation)

const decode = Schema.decodeUnknownExit(SummarySchema, { reportInput: true })
const formatIssue = SchemaIssue.makeFormatterStandardSchemaV1()

/** A Standard Schema path as a field name: final.eval[0].memoryFree.greedy */
const fieldName = (path: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }>): string =>
  path.map((seg) => (typeof seg === "object" ? seg.key : seg))
    .map((key, i) => (typeof key === "number" ? `[${key}]` : `${i === 0 ? "" : "."}${String(key)}`))
    .join("")

/** A parsed summary.json value, checked; `file` only names it in errors. */
export const checkSummary = (value: unknown, file: string): Summary => {
  const result = decode(value)
  if (Exit.isSuccess(result)) return result.value
  const error = Exit.findErrorOption(result)
  const first = Option.isSome(error) ? formatIssue(error.value.issue).issues[0] : undefined
  const problem = first === undefined
    ? "not a summary"
    : first.path === undefined || first.path.length === 0 ? first.message : `${fieldName(first.path)}: ${first.message}`
  throw new SummaryFileError({ file, problem })
}

/** Read and check a run's summary.json; a SummaryFileError names the file and the bad field. */
export const readSummary = (file: string): Summary => {
  let text: string
  try {
    text = readFileSync(file, "utf8")
  } catch (e) {
    const problem = (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file (the run has not finished)" : `cannot read: ${(e as Error).message}`
    throw new SummaryFileError({ file, problem })
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    // run.ts writes the file atomically, so a file that does not parse was damaged after the fact
    throw new SummaryFileError({ file, problem: `truncated or damaged: not JSON (${(e as Error).message})` })
  }
  return checkSummary(value, file)
}
