/**
 * The whole procedural memory as one immutable value, and its mapping onto the versioned store.
 *
 * M = { experience per problem, insights per problem, one behavior bank } (PMD §3). Updates return a
 * new state that shares every untouched per-problem record by reference, so `diffEdits(prev, next)`
 * costs O(changed problems + bank size), not O(memory), and the store re-hashes only those entries.
 *
 * Store keys (one entry per problem per level, one per behavior):
 *   exp/<problemId>   ProblemExperience
 *   ins/<problemId>   ProblemInsights
 *   beh/<behaviorId>  Behavior
 *   beh-retired       string[] (content keys of deprecated behaviors)
 * (versioned.ts adds `memp/<itemId>` entries for the Memp store; they are not part of MemoryState.)
 * `fromEntries(toEntries(s))` equals `s` (property-tested).
 */
import { compareStrings } from "../core/Order.ts"
import { type Behavior, type BehaviorBank, emptyBank } from "./behavior/behavior.ts"
import type { ProblemExperience } from "./experience/experience.ts"
import type { ProblemInsights } from "./insight/insights.ts"
import { MemoryInputError } from "./types.ts"

export interface MemoryState {
  readonly experience: ReadonlyMap<string, ProblemExperience>
  readonly insights: ReadonlyMap<string, ProblemInsights>
  readonly bank: BehaviorBank
}

export const emptyMemory: MemoryState = { experience: new Map(), insights: new Map(), bank: emptyBank }

export type MemoryValue = ProblemExperience | ProblemInsights | Behavior | ReadonlyArray<string>

export type MemoryEdit =
  | { readonly key: string; readonly value: MemoryValue }
  | { readonly key: string; readonly delete: true }

const RETIRED = "beh-retired"

/** All entries, sorted by key. */
export const toEntries = (s: MemoryState): Array<[string, MemoryValue]> => {
  const out: Array<[string, MemoryValue]> = []
  for (const [id, e] of s.experience) out.push([`exp/${id}`, e])
  for (const [id, i] of s.insights) out.push([`ins/${id}`, i])
  for (const b of s.bank.behaviors) out.push([`beh/${b.id}`, b])
  if (s.bank.retired.length > 0) out.push([RETIRED, s.bank.retired])
  return out.sort((a, b) => compareStrings(a[0], b[0]))
}

/** Rebuilds a state from store entries (any order). Throws MemoryInputError on an unknown key. */
export const fromEntries = (entries: Iterable<readonly [string, unknown]>): MemoryState => {
  const experience: Array<[string, ProblemExperience]> = []
  const insights: Array<[string, ProblemInsights]> = []
  const behaviors: Array<Behavior> = []
  let retired: Array<string> = []
  for (const [k, v] of entries) {
    if (k.startsWith("exp/")) experience.push([k.slice(4), v as ProblemExperience])
    else if (k.startsWith("ins/")) insights.push([k.slice(4), v as ProblemInsights])
    else if (k.startsWith("beh/")) behaviors.push(v as Behavior)
    else if (k === RETIRED) retired = [...(v as ReadonlyArray<string>)]
    else throw new MemoryInputError(`unknown memory store key ${JSON.stringify(k)}`)
  }
  const byKey = <A>(a: [string, A], b: [string, A]) => compareStrings(a[0], b[0])
  return {
    experience: new Map(experience.sort(byKey)),
    insights: new Map(insights.sort(byKey)),
    bank: { behaviors: behaviors.sort((a, b) => compareStrings(a.id, b.id)), retired }
  }
}

/** Store edits turning `prev` into `next`, sorted by key. Unchanged records are found by reference. */
export const diffEdits = (prev: MemoryState, next: MemoryState): Array<MemoryEdit> => {
  const out: Array<MemoryEdit> = []
  const diffMap = <V extends MemoryValue>(prefix: string, a: ReadonlyMap<string, V>, b: ReadonlyMap<string, V>) => {
    if (a === b) return
    for (const [id, v] of b) if (a.get(id) !== v) out.push({ key: prefix + id, value: v })
    for (const id of a.keys()) if (!b.has(id)) out.push({ key: prefix + id, delete: true })
  }
  diffMap("exp/", prev.experience, next.experience)
  diffMap("ins/", prev.insights, next.insights)
  if (prev.bank !== next.bank) {
    diffMap("beh/", new Map(prev.bank.behaviors.map((b) => [b.id, b])), new Map(next.bank.behaviors.map((b) => [b.id, b])))
    const pr = prev.bank.retired
    const nr = next.bank.retired
    if (pr.length !== nr.length || pr.some((x, i) => x !== nr[i])) {
      out.push(nr.length === 0 ? { key: RETIRED, delete: true } : { key: RETIRED, value: nr })
    }
  }
  return out.sort((a, b) => compareStrings(a.key, b.key))
}

/** Which records an update may have changed: lets a commit skip the O(memory) reference scan. */
export interface Touched {
  readonly experience?: ReadonlyArray<string>
  readonly insights?: ReadonlyArray<string>
  /** The bank may have changed (it is diffed in full: at most `capacity` behaviors). */
  readonly bank?: boolean
}

/**
 * Like `diffEdits`, but only looks at the touched records: O(touched), for per-step commits when
 * thousands of problems exist. The caller guarantees that untouched records are the same objects.
 */
export const diffTouched = (prev: MemoryState, next: MemoryState, touched: Touched): Array<MemoryEdit> => {
  const out: Array<MemoryEdit> = []
  const pick = (prefix: string, a: ReadonlyMap<string, MemoryValue>, b: ReadonlyMap<string, MemoryValue>, ids: ReadonlyArray<string> | undefined) => {
    for (const id of new Set(ids ?? [])) {
      const v = b.get(id)
      if (v === undefined) {
        if (a.has(id)) out.push({ key: prefix + id, delete: true })
      } else if (a.get(id) !== v) out.push({ key: prefix + id, value: v })
    }
  }
  pick("exp/", prev.experience, next.experience, touched.experience)
  pick("ins/", prev.insights, next.insights, touched.insights)
  if (touched.bank) {
    for (const e of diffEdits({ ...emptyMemory, bank: prev.bank }, { ...emptyMemory, bank: next.bank })) out.push(e)
  }
  return out.sort((a, b) => compareStrings(a.key, b.key))
}

/** A copy of `m` with `updates` applied (records not in `updates` are shared by reference). */
export const withRecords = <V>(m: ReadonlyMap<string, V>, updates: ReadonlyArray<readonly [string, V]>): ReadonlyMap<string, V> => {
  if (updates.length === 0) return m
  const out = new Map(m)
  for (const [k, v] of updates) out.set(k, v)
  return out
}
