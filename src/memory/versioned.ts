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
 * History, persistence (DiskStore), forks and diffs are the store's; this module is the thin mapping.
 */
import { PMap } from "./store/PMap.ts"
import { type CommitResult, type Version, VersionStore } from "./store/Versions.ts"
import { diffEdits, diffTouched, emptyMemory, fromEntries, type MemoryState, type MemoryValue, type Touched } from "./state.ts"
import { MemoryInputError, type WriteContext } from "./types.ts"

export class VersionedMemory {
  readonly store: VersionStore
  readonly branch: string
  private current: MemoryState
  private map: PMap<MemoryValue>
  private last: Version | undefined

  constructor(store: VersionStore = VersionStore.empty(), branch = "main") {
    this.store = store
    this.branch = branch
    const headVersion = store.head(branch)
    this.last = headVersion
    this.map = headVersion ? store.read<MemoryValue>(headVersion.id) : PMap.empty<MemoryValue>()
    this.current = headVersion ? fromEntries(this.map.entries()) : emptyMemory
  }

  get state(): MemoryState {
    return this.current
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
    const edits = touched ? diffTouched(this.current, next, touched) : diffEdits(this.current, next)
    const map = edits.length === 0 ? this.map : this.map.update(edits)
    const result = this.store.commit(this.branch, map, { step: ctx.step, policyVersion: ctx.policyVersion, label })
    this.current = next
    this.map = map
    this.last = result.version
    return { ...result, changed: edits.length }
  }

  /** The exact memory at a version id or branch name, decoded from the store. */
  checkout(ref: string): MemoryState {
    return fromEntries(this.store.read<MemoryValue>(ref).entries())
  }
}
