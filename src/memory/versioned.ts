/**
 * Versioned memory: every memory update becomes a new version in the snapshot store
 * (src/memory/store/: PMap + VersionStore), recorded with the step and the policy version that wrote it.
 *
 * - A commit applies only `diffEdits(prev, next)` (state.ts) to the head map, so its cost is
 *   O(changed records), not O(memory); bench/memory/consolidation.bench.ts measures it as memory grows.
 * - Versions are monotone: each commit's `seq` is its parent's + 1 and its step may not go back; the
 *   version id (sha256 of root, parent, seq, meta) names both the content and the history.
 * - `checkout(ref)` rebuilds the exact MemoryState of any version or branch through the canonical codec
 *   (round-trip property-tested).
 * - The Memp store (the behavior level under a Memp update policy, src/memory/memp/) is part of the
 *   versioned memory too: its items are store entries `memp/<itemId>`, so that a version names the whole
 *   memory a teacher may read (`checkoutMemp(ref)`), and a resumed run finds every older version's Memp
 *   store in the snapshot store on disk. A Memp update is staged (`stageMemp`) and written with the next
 *   commit (the step's experience commit follows it at once), so it adds no version of its own: the
 *   version numbers, and what `memory.lag` counts, are those of the PMD pipeline. Without Memp (the
 *   default `memory.update = "pmd"`) no such entry exists and versions are what they were.
 * History, persistence (DiskStore), forks and diffs are the store's; this module is the thin mapping.
 */
import { compareStrings } from "../core/Order.ts"
import { encode } from "../core/Codec.ts"
import { emptyMemp, type MempItem, type MempStore } from "./memp/memp.ts"
import { type Edit, PMap } from "./store/PMap.ts"
import { type CommitResult, type Version, VersionStore } from "./store/Versions.ts"
import { diffEdits, diffTouched, emptyMemory, fromEntries, type MemoryState, type MemoryValue, type Touched } from "./state.ts"
import { MemoryInputError, type WriteContext } from "./types.ts"

type StoredValue = MemoryValue | MempItem

const MEMP_PREFIX = "memp/"

/** Store entries split into the PMD memory state and the Memp store (items by id, as mempUpdate keeps them). */
const split = (entries: Iterable<readonly [string, StoredValue]>): { state: MemoryState; memp: MempStore } => {
  const rest: Array<readonly [string, StoredValue]> = []
  const items: Array<MempItem> = []
  for (const e of entries) {
    if (e[0].startsWith(MEMP_PREFIX)) items.push(e[1] as MempItem)
    else rest.push(e)
  }
  return {
    state: fromEntries(rest),
    memp: items.length === 0 ? emptyMemp : { items: items.sort((a, b) => compareStrings(a.id, b.id)) }
  }
}

/** Store edits turning one Memp store into the next; unchanged items are found by reference. */
const mempEdits = (prev: MempStore, next: MempStore): Array<Edit<StoredValue>> => {
  if (prev === next) return []
  const out: Array<Edit<StoredValue>> = []
  const before = new Map(prev.items.map((i) => [i.id, i]))
  const after = new Set(next.items.map((i) => i.id))
  for (const i of next.items) if (before.get(i.id) !== i) out.push({ key: MEMP_PREFIX + i.id, value: i })
  for (const id of before.keys()) if (!after.has(id)) out.push({ key: MEMP_PREFIX + id, delete: true })
  return out
}

const bytesEqual = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i])

export class VersionedMemory {
  readonly store: VersionStore
  readonly branch: string
  private current: MemoryState
  private map: PMap<StoredValue>
  private last: Version | undefined
  /** the Memp store at the head version, and the one the next commit writes (they differ between a Memp update and that commit) */
  private headMemp: MempStore
  private stagedMemp: MempStore
  /** inside a transaction: commits add versions without moving the branch head (see `transaction`) */
  private staging = false

  constructor(store: VersionStore = VersionStore.empty(), branch = "main") {
    this.store = store
    this.branch = branch
    const headVersion = store.head(branch)
    this.last = headVersion
    this.map = headVersion ? store.read<StoredValue>(headVersion.id) : PMap.empty<StoredValue>()
    const head = headVersion ? split(this.map.entries()) : { state: emptyMemory, memp: emptyMemp }
    this.current = head.state
    this.headMemp = head.memp
    this.stagedMemp = head.memp
  }

  get state(): MemoryState {
    return this.current
  }

  /** The newest Memp store: the head's, or a staged update the next commit writes. Writers read this one. */
  get memp(): MempStore {
    return this.stagedMemp
  }

  /** The Memp store at the head version (what a reader of the newest version sees). */
  get mempAtHead(): MempStore {
    return this.headMemp
  }

  /** A Memp update, written with the next commit (unchanged items must be the same objects: they are diffed by reference). */
  stageMemp(next: MempStore): void {
    this.stagedMemp = next
  }

  /**
   * A Memp store from elsewhere (a checkpoint's copy): items equal in content to the head's keep the
   * head's objects, so that restoring the store a checkpoint saved beside this head writes nothing.
   */
  restoreMemp(store: MempStore): void {
    const head = new Map(this.headMemp.items.map((i) => [i.id, i]))
    const items = store.items.map((i) => {
      const h = head.get(i.id)
      return h !== undefined && (h === i || bytesEqual(encode(h), encode(i))) ? h : i
    })
    const same = items.length === this.headMemp.items.length && items.every((i, k) => i === this.headMemp.items[k])
    this.stagedMemp = same ? this.headMemp : { items }
  }

  get head(): Version | undefined {
    return this.last
  }

  /**
   * Records `next` as a new version on the branch (a new version even when nothing changed). With
   * `touched` (what the update may have changed, e.g. the batch's problem ids) the diff costs
   * O(touched); without it, a reference scan of every record (O(memory), still no re-hashing).
   */
  commit(next: MemoryState, ctx: WriteContext, label: string, touched?: Touched): CommitResult & { readonly changed: number } {
    if (this.last && ctx.step < this.last.meta.step) {
      throw new MemoryInputError(`commit at step ${ctx.step} after step ${this.last.meta.step}: steps must not go back`)
    }
    const stateEdits: Array<Edit<StoredValue>> = touched ? diffTouched(this.current, next, touched) : diffEdits(this.current, next)
    const memp = mempEdits(this.headMemp, this.stagedMemp)
    const edits = memp.length === 0 ? stateEdits : [...stateEdits, ...memp].sort((a, b) => compareStrings(a.key, b.key))
    const map = edits.length === 0 ? this.map : this.map.update(edits)
    const meta = { step: ctx.step, policyVersion: ctx.policyVersion, label }
    const result = this.staging ? this.store.commitOn(this.last?.id ?? null, map, meta) : this.store.commit(this.branch, map, meta)
    this.current = next
    this.map = map
    this.last = result.version
    this.headMemp = this.stagedMemp
    return { ...result, changed: edits.length }
  }

  /**
   * All or nothing: until `publish`, commits add their versions to the store (content-addressed, so the
   * same ids as direct commits) without moving the branch head, while this object reads as if they had;
   * `publish` moves the head to the last of them at once, `rollback` puts this object back as it was
   * (the versions stay in the store, unreachable from the branch). One transaction at a time.
   */
  transaction(): { readonly publish: () => void; readonly rollback: () => void } {
    if (this.staging) throw new MemoryInputError("a memory transaction is already open")
    const before = { current: this.current, map: this.map, last: this.last, headMemp: this.headMemp, stagedMemp: this.stagedMemp }
    this.staging = true
    return {
      publish: () => {
        this.staging = false
        if (this.last !== undefined && this.last.id !== this.store.head(this.branch)?.id) this.store.setHead(this.branch, this.last.id)
      },
      rollback: () => {
        this.staging = false
        this.current = before.current
        this.map = before.map
        this.last = before.last
        this.headMemp = before.headMemp
        this.stagedMemp = before.stagedMemp
      }
    }
  }

  /** The exact memory at a version id or branch name, decoded from the store (its Memp store: `checkoutMemp`). */
  checkout(ref: string): MemoryState {
    return split(this.store.read<StoredValue>(ref).entries()).state
  }

  /** The Memp store at a version id or branch name (empty when that version had none). */
  checkoutMemp(ref: string): MempStore {
    return this.checkoutAll(ref).memp
  }

  /** Both at once (one read of the version). */
  checkoutAll(ref: string): { readonly state: MemoryState; readonly memp: MempStore } {
    return split(this.store.read<StoredValue>(ref).entries())
  }
}
