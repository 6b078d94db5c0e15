/**
 * A replayed memory against the run's own, version by version (pure over two snapshot stores).
 *
 * Versions are paired by (step, label, ordinal): the replay of an unchanged pipeline writes the run's
 * versions one for one; a changed one may write more or fewer (another `memory.levels`), and a version one
 * side lacks is compared with the other side's latest before it. For each pair:
 * - items added / removed / changed, from the replay's point of view: an item is an experience item, an
 *   insight, a behavior, a Memp item (by its id) or a retired behavior key; a per-problem record whose own
 *   fields (counters) differ counts as one changed item too. Cost O(differences): the store's structural
 *   diff skips every shared subtree, and equal version ids are not looked into at all.
 * - at the last version of each step: retrieval overlap, the Jaccard overlap of the memory items the
 *   teacher's view holds (experience, insights, the top-K behaviors of the retriever) on the version the
 *   teacher of that step pinned (newest - memory.lag), for that step's problems, with the teacher's own
 *   seeded retrieval streams, averaged over the problems. Both sides are read with the replay's memory
 *   settings, by the memory's own `Views` message, so the number measures what the memory content changes.
 *   Equal pinned ids give 1 unread.
 */
import { hashValue } from "../../core/Hash.ts"
import type { MemoryView } from "../../memory/retrieval/compose.ts"
import { diff } from "../../memory/store/diff.ts"
import { PMap } from "../../memory/store/PMap.ts"
import type { Version, VersionStore } from "../../memory/store/Versions.ts"
import type { StreamKey, VersionRef as PinnedVersion } from "../../protocol/records.ts"
import { IMPORT_LABEL } from "../importMemory.ts"

export interface VersionRef {
  readonly seq: number
  readonly id: string
  readonly label: string
}

export interface VersionRow {
  /** the run step that wrote the version, numbered as metrics.jsonl (1 = first; 0 = imported memory) */
  readonly step: number
  readonly label: string
  /** the version of each side at this point (null: empty memory); `same` when the ids are equal */
  readonly run: VersionRef | null
  readonly replay: VersionRef | null
  readonly same: boolean
  readonly added: number
  readonly removed: number
  readonly changed: number
  /** at the last version of a step with memory: mean Jaccard overlap of the teacher's view over `queries` problems */
  readonly retrieval: { readonly overlap: number; readonly queries: number } | null
}

export interface Comparison {
  /** every snapshot id of the replay equals the run's, in order, and there are as many */
  readonly identical: boolean
  readonly versions: { readonly run: number; readonly replay: number }
  readonly rows: ReadonlyArray<VersionRow>
  /** the final memories: items added / removed / changed, and the mean retrieval overlap over the steps */
  readonly final: { readonly added: number; readonly removed: number; readonly changed: number; readonly retrievalOverlap: number | null }
}

// ---- items ----

type Items = Map<string, string>

const itemsOf = (key: string, value: unknown): { header: string | null; items: Items } => {
  const items: Items = new Map()
  const v = value as Record<string, unknown>
  const take = (fields: ReadonlyArray<string>) => {
    for (const f of fields) for (const it of (v[f] as ReadonlyArray<{ id: string }> | undefined) ?? []) items.set(it.id, hashValue(it))
    const rest = Object.fromEntries(Object.entries(v).filter(([k]) => !fields.includes(k)))
    return hashValue(rest)
  }
  if (key.startsWith("exp/")) return { header: take(["successes", "failures"]), items }
  if (key.startsWith("ins/")) return { header: take(["strategies", "lessons"]), items }
  if (key === "beh-retired") {
    for (const k of value as ReadonlyArray<string>) items.set(`retired:${k}`, k)
    return { header: null, items }
  }
  items.set(typeof v?.["id"] === "string" ? (v["id"] as string) : key, hashValue(value))
  return { header: null, items }
}

interface ItemDiff {
  readonly added: number
  readonly removed: number
  readonly changed: number
}

/** Items only in `b` (added), only in `a` (removed), in both with other content (changed). */
export const itemDiff = (a: PMap<unknown>, b: PMap<unknown>): ItemDiff => {
  if (a.id === b.id) return { added: 0, removed: 0, changed: 0 }
  const d = diff(a, b)
  let added = 0
  let removed = 0
  let changed = 0
  for (const x of d.added) added += itemsOf(x.key, x.value).items.size
  for (const x of d.removed) removed += itemsOf(x.key, x.value).items.size
  for (const x of d.changed) {
    const before = itemsOf(x.key, x.before)
    const after = itemsOf(x.key, x.after)
    if (before.header !== after.header) changed++
    for (const [id, h] of after.items) {
      const old = before.items.get(id)
      if (old === undefined) added++
      else if (old !== h) changed++
    }
    for (const id of before.items.keys()) if (!after.items.has(id)) removed++
  }
  return { added, removed, changed }
}

// ---- retrieval ----

/** The ids of the memory items a teacher view holds. */
export const viewItems = (v: MemoryView): Set<string> => new Set([
  ...[...(v.experience?.successes ?? []), ...(v.experience?.failures ?? [])].map((i) => i.id),
  ...[...(v.insights?.strategies ?? []), ...(v.insights?.lessons ?? [])].map((i) => i.id),
  ...(v.behaviors ?? []).map((b) => b.id ?? `tokens:${b.kind}:${b.tokens.join(",")}`)
])

const jaccard = (a: Set<string>, b: Set<string>): number => {
  if (a.size === 0 && b.size === 0) return 1
  let both = 0
  for (const x of a) if (b.has(x)) both++
  return both / (a.size + b.size - both)
}

// ---- pairing ----

const LABEL_RANK: Readonly<Record<string, number>> = { [IMPORT_LABEL]: 0, usage: 1, experience: 2, reflector: 3, consolidator: 4 }
const runStepOf = (v: Version): number => (v.meta.label === IMPORT_LABEL ? 0 : v.meta.step + 1)

type Key = readonly [number, number, string, number]
const keysOf = (hist: ReadonlyArray<Version>): Array<Key> => {
  const seen = new Map<string, number>()
  return hist.map((v) => {
    const s = runStepOf(v)
    const k = `${s}/${v.meta.label}`
    const n = seen.get(k) ?? 0
    seen.set(k, n + 1)
    return [s, LABEL_RANK[v.meta.label] ?? 5, v.meta.label, n] as const
  })
}
const cmpKey = (a: Key, b: Key): number => a[0] - b[0] || a[1] - b[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0) || a[3] - b[3]

export interface Side {
  readonly store: VersionStore
  /** the version history, oldest first */
  readonly history: ReadonlyArray<Version>
  /** what a teacher sees of a problem at a version of `store`, retrieved with `stream` (the replay's memory settings) */
  readonly view: (version: PinnedVersion, problemId: string, stream: StreamKey) => MemoryView
}

export interface CompareOptions {
  readonly seed: number
  readonly lag: number
  /** per run step, the problems of the step's batch (the teacher's queries); absent: no memory that step */
  readonly queries: ReadonlyMap<number, ReadonlyArray<string>>
}

export const compareMemories = (run: Side, replay: Side, o: CompareOptions): Comparison => {
  const rk = keysOf(run.history)
  const pk = keysOf(replay.history)
  // the merged sequence of version keys: [index into run.history or -1, index into replay.history or -1]
  const pairs: Array<{ key: Key; i: number; j: number }> = []
  let i = 0
  let j = 0
  while (i < rk.length || j < pk.length) {
    const c = i >= rk.length ? 1 : j >= pk.length ? -1 : cmpKey(rk[i]!, pk[j]!)
    if (c === 0) pairs.push({ key: rk[i]!, i: i++, j: j++ })
    else if (c < 0) pairs.push({ key: rk[i]!, i: i++, j: j - 1 })
    else pairs.push({ key: pk[j]!, i: i - 1, j: j++ })
  }
  const ref = (h: ReadonlyArray<Version>, k: number): VersionRef | null => (k < 0 ? null : { seq: h[k]!.seq, id: h[k]!.id, label: h[k]!.meta.label })
  const mapOf = (s: Side, k: number): PMap<unknown> => (k < 0 ? PMap.empty<unknown>() : s.store.read(s.history[k]!.id))
  // the version the teacher pinned (newest - lag), as the memory numbers it (seq 0 = the empty memory)
  const pinned = (s: Side, k: number): PinnedVersion => {
    const v = k - o.lag < 0 ? undefined : s.history[k - o.lag]!
    return v === undefined ? { seq: 0, id: "empty" } : { seq: v.seq + 1, id: v.id }
  }
  const overlaps: Array<number> = []
  const rows = pairs.map((p, n): VersionRow => {
    const a = ref(run.history, p.i)
    const b = ref(replay.history, p.j)
    const same = a?.id === b?.id
    const d = same ? { added: 0, removed: 0, changed: 0 } : itemDiff(mapOf(run, p.i), mapOf(replay, p.j))
    let retrieval: VersionRow["retrieval"] = null
    const problems = o.queries.get(p.key[0])
    const lastOfStep = pairs[n + 1] === undefined || pairs[n + 1]!.key[0] !== p.key[0]
    if (lastOfStep && problems !== undefined && problems.length > 0) {
      const x = pinned(run, p.i)
      const y = pinned(replay, p.j)
      let sum = 0
      for (const problemId of problems) {
        if (x.id === y.id) {
          sum += 1
          continue
        }
        // the teacher's own stream for this problem at that step (Teacher.ts viewQueries)
        const stream = { seed: o.seed, key: ["retrieval", p.key[0] - 1, problemId] }
        sum += jaccard(viewItems(run.view(x, problemId, stream)), viewItems(replay.view(y, problemId, stream)))
      }
      retrieval = { overlap: sum / problems.length, queries: problems.length }
      overlaps.push(retrieval.overlap)
    }
    return { step: p.key[0], label: p.key[2], run: a, replay: b, same, ...d, retrieval }
  })
  const identical = run.history.length === replay.history.length && run.history.every((v, k) => v.id === replay.history[k]!.id)
  const last = (h: ReadonlyArray<Version>) => h.length - 1
  const final = itemDiff(mapOf(run, last(run.history)), mapOf(replay, last(replay.history)))
  return {
    identical, versions: { run: run.history.length, replay: replay.history.length }, rows,
    final: { ...final, retrievalOverlap: overlaps.length === 0 ? null : overlaps.reduce((s, x) => s + x, 0) / overlaps.length }
  }
}
