/**
 * lineage.jsonl: a run's memory lineage (issue #14 item 5), one JSON object a line, one line per training
 * step, in step order. Written by the run loop (src/experiments/lineage.ts), read here for `pmdsim lineage`,
 * the report and `replay`. Positional arrays keep it compact (default preset: 6.4 kB a step, measured over 10 steps):
 *
 *   {"step": 3,                                  the step, numbered as metrics.jsonl's train rows (1 = first)
 *    "read": [7, "9f3c…"],                       memory version the teacher read: [seq, version id]; null = none
 *    "items": [["s000001/p3/r000", 7], …],       every memory item some context of the step held: [id, version seq]
 *    "contexts": [[rolloutId, problemId, reward, solved, policyVersion, kind, [item indexes]], …],
 *    "created": [[itemId, itemKind, [[rolloutId, step, policyVersion, reward], …]], …]}
 *
 * `contexts` lists every rollout of the step (the student's memory-free samples): its reward, `solved` (1/0:
 * the verifier's verdict), the policy version that sampled it, what its teacher context rested on (`kind`:
 * sibling / stored / feedback / memory / none, or null when no teacher ran that step) and the items in the
 * context, as indexes into `items`. `created` lists the memory items that first appeared in memory that step
 * (experience: the stored rollout; insight and behavior: their sources; memp: its rollout), each with the
 * rollouts it was made from and their step, policy version and reward (null when that rollout was sampled
 * before the file's first record, e.g. a run resumed from before lineage existed).
 *
 * Item ids are the memory's own: an experience item is named by its rollout id, insights `ins-…`, behaviors
 * `beh-…`, Memp items `memp-<rollout id>`. The file is not part of the state hash; `replay` compares it.
 */
import { Schema } from "effect"
import { jsonLines } from "./jsonLines.ts"
import { readIfPresent } from "./load.ts"

export const LINEAGE_FILE = "lineage.jsonl"

export type ItemKind = "experience" | "insight" | "behavior" | "memp"
export const ITEM_KINDS: ReadonlyArray<ItemKind> = ["experience", "insight", "behavior", "memp"]
export const CONTEXT_KINDS: ReadonlyArray<string> = ["sibling", "stored", "feedback", "memory", "none"]

/** [rolloutId, problemId, reward, solved (1/0), policyVersion, kind (null: no teacher), item indexes] */
export type ContextEntry = readonly [string, string, number, 0 | 1, number, string | null, ReadonlyArray<number>]
/** [rolloutId, step, policyVersion, reward]; null where the rollout is older than the file */
export type SourceEntry = readonly [string, number | null, number | null, number | null]
/** [itemId, itemKind, sources] */
export type CreatedEntry = readonly [string, ItemKind, ReadonlyArray<SourceEntry>]

export interface LineageRecord {
  readonly step: number
  readonly read: readonly [number, string] | null
  readonly items: ReadonlyArray<readonly [string, number]>
  readonly contexts: ReadonlyArray<ContextEntry>
  readonly created: ReadonlyArray<CreatedEntry>
}

/** A lineage.jsonl that is missing, not JSON, or holds a malformed record: names the file (and line). */
export class LineageFileError extends Schema.TaggedError<LineageFileError>()("LineageFileError", { file: Schema.String, problem: Schema.String }) {
  override get message(): string {
    return `${this.file}: ${this.problem}`
  }
}

/** The kind of an item, from its id (the memory's id formats). */
export const itemKindOf = (id: string): ItemKind =>
  id.startsWith("ins-") ? "insight" : id.startsWith("beh-") ? "behavior" : id.startsWith("memp-") ? "memp" : "experience"

/** One record as its line (no newline): the same record always gives the same bytes. */
export const lineageLine = (r: LineageRecord): string =>
  JSON.stringify({ step: r.step, read: r.read, items: r.items, contexts: r.contexts, created: r.created })

const describe = (v: unknown): string => (v === undefined ? "nothing" : JSON.stringify(v)?.slice(0, 60) ?? String(v))

/** A malformed field, caught below and reported as a LineageFileError naming the file and line. */
class Bad extends Error {
  readonly _tag = "LineageFieldError"
}
const bad = (path: string, want: string, got: unknown): never => {
  throw new Bad(`${path} must be ${want}, got ${describe(got)}`)
}
const isNat = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v)
const nonEmpty = (v: unknown, path: string): string => (typeof v === "string" && v !== "" ? v : bad(path, "a non-empty string", v))
const arr = (v: unknown, path: string, len?: number): Array<unknown> =>
  Array.isArray(v) && (len === undefined || v.length === len) ? v : bad(path, len === undefined ? "an array" : `an array of ${len}`, v)
const natOrNull = (v: unknown, path: string): number | null => (v === null || isNat(v) ? v : bad(path, "a non-negative integer or null", v))
const numOrNull = (v: unknown, path: string): number | null => (v === null || isNum(v) ? v : bad(path, "a finite number or null", v))

/** Checks one parsed line; throws Bad naming the field. */
const toRecord = (v: unknown): LineageRecord => {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return bad("the line", "a JSON object", v)
  const o = v as Record<string, unknown>
  const step = isNat(o["step"]) && o["step"] > 0 ? o["step"] : bad("step", "a positive integer", o["step"])
  let read: LineageRecord["read"] = null
  if (o["read"] !== null) {
    const r = arr(o["read"], "read", 2)
    read = [isNat(r[0]) ? r[0] : bad("read[0]", "a non-negative integer", r[0]), nonEmpty(r[1], "read[1]")]
  }
  const items = arr(o["items"], "items").map((x, i) => {
    const e = arr(x, `items[${i}]`, 2)
    return [nonEmpty(e[0], `items[${i}][0]`), isNat(e[1]) ? e[1] : bad(`items[${i}][1]`, "a non-negative integer", e[1])] as const
  })
  const contexts = arr(o["contexts"], "contexts").map((x, i): ContextEntry => {
    const at = `contexts[${i}]`
    const e = arr(x, at, 7)
    const kind = e[5] === null || CONTEXT_KINDS.includes(e[5] as string) ? (e[5] as string | null) : bad(`${at}[5]`, `one of ${CONTEXT_KINDS.join(", ")} or null`, e[5])
    const refs = arr(e[6], `${at}[6]`).map((j, k) => (isNat(j) && j < items.length ? j : bad(`${at}[6][${k}]`, `an index into items (< ${items.length})`, j)))
    return [
      nonEmpty(e[0], `${at}[0]`), nonEmpty(e[1], `${at}[1]`), isNum(e[2]) ? e[2] : bad(`${at}[2]`, "a finite number", e[2]),
      e[3] === 0 || e[3] === 1 ? e[3] : bad(`${at}[3]`, "0 or 1", e[3]), isNat(e[4]) ? e[4] : bad(`${at}[4]`, "a non-negative integer", e[4]), kind, refs
    ]
  })
  const created = arr(o["created"], "created").map((x, i): CreatedEntry => {
    const at = `created[${i}]`
    const e = arr(x, at, 3)
    const kind = ITEM_KINDS.includes(e[1] as ItemKind) ? (e[1] as ItemKind) : bad(`${at}[1]`, `one of ${ITEM_KINDS.join(", ")}`, e[1])
    const sources = arr(e[2], `${at}[2]`).map((y, k): SourceEntry => {
      const s = arr(y, `${at}[2][${k}]`, 4)
      return [nonEmpty(s[0], `${at}[2][${k}][0]`), natOrNull(s[1], `${at}[2][${k}][1]`), natOrNull(s[2], `${at}[2][${k}][2]`), numOrNull(s[3], `${at}[2][${k}][3]`)]
    })
    return [nonEmpty(e[0], `${at}[0]`), kind, sources]
  })
  return { step, read, items, contexts, created }
}

export interface ParseLineageOptions {
  /** leave out a last line cut off mid-append (a crash): for a run that resumes; readers of results fail */
  readonly dropTruncatedLastLine?: boolean
}

/** Parse lineage.jsonl text: every record checked, steps strictly increasing (one record a step). */
export const parseLineage = (text: string, file: string, options: ParseLineageOptions = {}): Array<LineageRecord> => {
  const out: Array<LineageRecord> = []
  for (const { lineNo, value } of jsonLines(text, options, (n, problem) => new LineageFileError({ file: `${file}:${n}`, problem }))) {
    const fail = (problem: string): never => {
      throw new LineageFileError({ file: `${file}:${lineNo}`, problem })
    }
    let record: LineageRecord
    try {
      record = toRecord(value)
    } catch (e) {
      if (e instanceof Bad) return fail(e.message)
      throw e
    }
    const prev = out.at(-1)
    if (prev !== undefined && record.step <= prev.step) fail(`step ${record.step} after step ${prev.step}: steps must increase (one record a step)`)
    out.push(record)
  }
  return out
}

/** Read and check a lineage.jsonl; a missing or unreadable file is a LineageFileError naming it. */
export const readLineageFile = (file: string, options: ParseLineageOptions = {}): Array<LineageRecord> => {
  const text = readIfPresent(file, (message) => new LineageFileError({ file, problem: `cannot read: ${message}` }))
  if (text === undefined) {
    throw new LineageFileError({ file, problem: "missing: the run wrote no lineage (a run started before lineage was recorded, or not a run directory)" })
  }
  return parseLineage(text, file, options)
}
