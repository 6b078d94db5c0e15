/**
 * rollouts.jsonl: what a run's memory pipeline consumed, one JSON object a line, one line per training step,
 * in step order, so that `pmdsim memory-replay` can rebuild the memory without the policy, the teacher or
 * training. Each line is the step's call on the memory actor exactly as the run loop made it:
 *
 *   {"step": 3, "call": null}                     no memory this step (GRPO, SDPO)
 *   {"step": 3, "call": "freeze"}                 Frozen-Memory: the memory was frozen (or stayed frozen)
 *   {"step": 3, "call": "remember",               the RememberRequest (src/protocol/memory.ts):
 *    "at": [2, 1],                                its write context [step, policy version] (step counts from 0)
 *    "consolidate": false, "fresh": false,
 *    "groups": [[problemId, [[rolloutId, response, feedback, success (1/0), reward, policyVersion, step], …]], …],
 *    "queries": {problemId: prompt, …},           the prompt each outcome's problem was sampled with
 *    "outcomes": [rolloutId | [rolloutId, usedId] | {full outcome}, …]}
 *
 * `step` is numbered as metrics.jsonl's train rows (1 = first). The outcomes of a step are the previous
 * step's rollouts plus the behavior the teacher used for each; one whose rollout is in the previous line
 * with the same response, verdict and provenance is written as a reference (its rollout id, and the used
 * id when there is one) instead of a second copy of it. Token sequences are base64 of one byte a
 * token when every token fits in a byte (the built-in vocabularies have 103), else JSON arrays; a reader
 * accepts both.
 *
 * Why JSON lines and not a binary framing: the file gets the same discipline as metrics.jsonl and
 * lineage.jsonl with the same reader (src/report/jsonLines.ts): appended through the durable file layer, a
 * line torn by kill -9 has no newline and is dropped on resume, the file is cut back to the checkpoint,
 * and the bytes of a line are a function of the step alone (JSON.stringify of the same values), so a
 * killed and resumed run's file is byte-identical to an uninterrupted one. The base64 tokens keep it about
 * as small as msgpack would. Not part of the state hash.
 */
import { Schema } from "effect"
import { readFileSync } from "node:fs"
import type { MemoryCall } from "./memoryCall.ts"
import type { RememberRequest } from "../../../actors/memory/index.ts"
import type { Attempt } from "../../memory/experience/experience.ts"
import type { RolloutGroup } from "../../memory/pipeline.ts"
import type { Provenance } from "../../memory/types.ts"
import { jsonLines } from "../../report/jsonLines.ts"

export const ROLLOUTS_FILE = "rollouts.jsonl"

/** A rollouts.jsonl that is missing, not JSON, or holds a malformed record: names the file (and line). */
export class RolloutsFileError extends Schema.TaggedError<RolloutsFileError>()("RolloutsFileError", { file: Schema.String, problem: Schema.String }) {
  override get message(): string {
    return `${this.file}: ${this.problem}`
  }
}

/** One step's record, decoded: the call the memory actor received (null: none). */
export interface RolloutsRecord {
  readonly step: number
  readonly call: MemoryCall | null
}

type Outcome = RememberRequest["outcomes"][number]
type Tokens = string | ReadonlyArray<number>

// ---- tokens ----

const packTokens = (t: ReadonlyArray<number>): Tokens =>
  t.every((x) => Number.isInteger(x) && x >= 0 && x < 256) ? Buffer.from(Uint8Array.from(t)).toString("base64") : [...t]

const unpackTokens = (t: unknown, where: () => string): Array<number> => {
  if (typeof t === "string") {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(t)) throw new Error(`${where()}: not base64 tokens`)
    return [...Buffer.from(t, "base64")]
  }
  if (Array.isArray(t) && t.every((x) => Number.isInteger(x) && x >= 0)) return t as Array<number>
  throw new Error(`${where()}: expected tokens (base64 or an array of non-negative integers)`)
}

const sameTokens = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): boolean => a.length === b.length && a.every((x, i) => x === b[i])

// ---- encoding ----

type AttemptEntry = readonly [string, Tokens, Tokens, 0 | 1, number, number, number]

/** The attempts of a line by rollout id (what the next line's outcomes may refer to). */
export type AttemptIndex = ReadonlyMap<string, { readonly problemId: string; readonly attempt: Attempt }>

export const attemptIndex = (call: MemoryCall | null): AttemptIndex => {
  const m = new Map<string, { problemId: string; attempt: Attempt }>()
  if (call !== null && call._tag === "Remember") {
    for (const g of call.request.groups) for (const a of g.attempts) m.set(a.prov.rolloutId, { problemId: g.problemId, attempt: a })
  }
  return m
}

const sameProv = (a: Provenance, b: Provenance): boolean =>
  a.rolloutId === b.rolloutId && a.policyVersion === b.policyVersion && a.step === b.step && a.reward === b.reward

/** The record of one step as its line (no newline). `previous` indexes the previous line's attempts. */
export const rolloutsLine = (step: number, call: MemoryCall | null, previous: AttemptIndex): string => {
  if (call === null) return JSON.stringify({ step, call: null })
  if (call._tag === "Freeze") return JSON.stringify({ step, call: "freeze" })
  const r = call.request
  const groups = r.groups.map((g) => [g.problemId, g.attempts.map((a): AttemptEntry =>
    [a.prov.rolloutId, packTokens(a.response), packTokens(a.feedback), a.success ? 1 : 0, a.prov.reward, a.prov.policyVersion, a.prov.step])] as const)
  const queries: Record<string, Tokens> = {}
  const queryOf = new Map<string, ReadonlyArray<number>>()
  const outcomes = r.outcomes.map((o) => {
    const prev = previous.get(o.prov.rolloutId)
    let q = queryOf.get(o.problemId)
    if (q === undefined) {
      q = o.query
      queryOf.set(o.problemId, q)
      queries[o.problemId] = packTokens(q)
    }
    const keys = Object.keys(o).sort().join(",")
    const referable = prev !== undefined && prev.problemId === o.problemId && sameTokens(prev.attempt.response, o.response) &&
      prev.attempt.success === o.success && sameProv(prev.attempt.prov, o.prov) && sameTokens(q, o.query) &&
      (keys === "problemId,prov,query,response,success" || (keys === "behaviorId,problemId,prov,query,response,success,usedId" && o.usedId === o.behaviorId))
    if (referable) return o.usedId === undefined ? o.prov.rolloutId : [o.prov.rolloutId, o.usedId]
    return {
      problemId: o.problemId, query: packTokens(o.query), response: packTokens(o.response), success: o.success,
      prov: [o.prov.rolloutId, o.prov.policyVersion, o.prov.step, o.prov.reward],
      ...(o.usedId === undefined ? {} : { usedId: o.usedId }), ...(o.behaviorId === undefined ? {} : { behaviorId: o.behaviorId })
    }
  })
  return JSON.stringify({ step, call: "remember", at: [r.step, r.policyVersion], consolidate: r.consolidate, fresh: r.fresh, groups, queries, outcomes })
}

// ---- decoding ----

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x)
const nat = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x) && x >= 0
const num = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x)

/** A decoded line (`value`: the parsed JSON), its outcome references resolved against the previous line. */
export const decodeRecord = (value: unknown, previous: AttemptIndex): RolloutsRecord => {
  const bad = (what: string): never => {
    throw new Error(what)
  }
  if (!isObj(value) || !nat(value["step"]) || value["step"] < 1) return bad("expected {\"step\": N (>= 1), \"call\": ...}")
  const step = value["step"]
  const call = value["call"]
  if (call === null) return { step, call: null }
  if (call === "freeze") return { step, call: { _tag: "Freeze" } }
  if (call !== "remember") return bad(`call must be null, "freeze" or "remember", got ${JSON.stringify(call)}`)
  const at = value["at"]
  if (!Array.isArray(at) || at.length !== 2 || !nat(at[0]) || !nat(at[1])) return bad("at must be [step, policyVersion]")
  if (typeof value["consolidate"] !== "boolean" || typeof value["fresh"] !== "boolean") return bad("consolidate and fresh must be booleans")
  if (!Array.isArray(value["groups"])) return bad("groups must be an array")
  const groups: Array<RolloutGroup> = value["groups"].map((g: unknown, i: number) => {
    if (!Array.isArray(g) || g.length !== 2 || typeof g[0] !== "string" || !Array.isArray(g[1])) return bad(`groups[${i}] must be [problemId, attempts]`)
    const attempts = (g[1] as Array<unknown>).map((a, j): Attempt => {
      const where = () => `groups[${i}][1][${j}]`
      if (!Array.isArray(a) || a.length !== 7 || typeof a[0] !== "string" || (a[3] !== 0 && a[3] !== 1) || !num(a[4]) || !nat(a[5]) || !nat(a[6])) {
        return bad(`${where()} must be [rolloutId, response, feedback, success, reward, policyVersion, step]`)
      }
      return { response: unpackTokens(a[1], where), feedback: unpackTokens(a[2], where), success: a[3] === 1, prov: { rolloutId: a[0], policyVersion: a[5], step: a[6], reward: a[4] } }
    })
    return { problemId: g[0] as string, attempts }
  })
  const queries = value["queries"]
  if (!isObj(queries)) return bad("queries must be an object")
  if (!Array.isArray(value["outcomes"])) return bad("outcomes must be an array")
  const outcomes = value["outcomes"].map((o: unknown, i: number): Outcome => {
    const where = () => `outcomes[${i}]`
    if (typeof o === "string" || (Array.isArray(o) && o.length === 2 && typeof o[0] === "string" && typeof o[1] === "string")) {
      const id = typeof o === "string" ? o : (o[0] as string)
      const prev = previous.get(id)
      if (prev === undefined) return bad(`${where()}: rollout ${id} is not in the previous line`)
      const q = queries[prev.problemId]
      if (q === undefined) return bad(`${where()}: no query for problem ${prev.problemId}`)
      const base = { problemId: prev.problemId, query: unpackTokens(q, where), response: prev.attempt.response, success: prev.attempt.success, prov: prev.attempt.prov }
      return typeof o === "string" ? base : { ...base, usedId: o[1] as string, behaviorId: o[1] as string }
    }
    if (!isObj(o) || typeof o["problemId"] !== "string" || typeof o["success"] !== "boolean") return bad(`${where()}: expected a rollout id, [rolloutId, usedId] or an outcome`)
    const p = o["prov"]
    if (!Array.isArray(p) || p.length !== 4 || typeof p[0] !== "string" || !nat(p[1]) || !nat(p[2]) || !num(p[3])) return bad(`${where()}.prov must be [rolloutId, policyVersion, step, reward]`)
    for (const k of ["usedId", "behaviorId"]) if (k in o && typeof o[k] !== "string") return bad(`${where()}.${k} must be a string`)
    return {
      problemId: o["problemId"], query: unpackTokens(o["query"], where), response: unpackTokens(o["response"], where), success: o["success"],
      prov: { rolloutId: p[0], policyVersion: p[1], step: p[2], reward: p[3] },
      ...(typeof o["usedId"] === "string" ? { usedId: o["usedId"] } : {}), ...(typeof o["behaviorId"] === "string" ? { behaviorId: o["behaviorId"] } : {})
    }
  })
  const request: RememberRequest = { groups, step: at[0], policyVersion: at[1], consolidate: value["consolidate"], fresh: value["fresh"], outcomes }
  return { step, call: { _tag: "Remember", request } }
}

/** A file's lines, parsed and checked: each with its JSON value (to rewrite it byte for byte) and its record. */
export const parseRollouts = (
  text: string, file: string, options: { readonly dropTruncatedLastLine?: boolean } = {}
): Array<{ readonly value: unknown; readonly record: RolloutsRecord }> => {
  const out: Array<{ value: unknown; record: RolloutsRecord }> = []
  let previous: AttemptIndex = new Map()
  for (const { lineNo, value } of jsonLines(text, options, (n, problem) => new RolloutsFileError({ file, problem: `line ${n}: ${problem}` }))) {
    let record: RolloutsRecord
    try {
      record = decodeRecord(value, previous)
    } catch (e) {
      throw new RolloutsFileError({ file, problem: `line ${lineNo}: ${(e as Error).message}` })
    }
    const last = out.at(-1)
    if (last !== undefined && record.step <= last.record.step) {
      throw new RolloutsFileError({ file, problem: `line ${lineNo}: step ${record.step} after step ${last.record.step} (steps must increase)` })
    }
    out.push({ value, record })
    previous = attemptIndex(record.call)
  }
  return out
}

/** The records of a rollouts.jsonl; a missing file names what it means (a run recorded before the file existed). */
export const readRolloutsFile = (file: string, options: { readonly dropTruncatedLastLine?: boolean } = {}): Array<RolloutsRecord> => {
  let text: string
  try {
    text = readFileSync(file, "utf8")
  } catch (e) {
    const code = (e as { code?: string }).code
    throw new RolloutsFileError({
      file, problem: code === "ENOENT"
        ? "missing: this run was recorded before pmdsim recorded the rollouts its memory consumed, so its memory cannot be replayed (rerun it, or fork it, with this version)"
        : `cannot read: ${(e as Error).message}`
    })
  }
  return parseRollouts(text, file, options).map((x) => x.record)
}
