/**
 * Versioned memory: every memory update becomes a new snapshot version in the content-addressed store
 * (src/memory/store/PMap.ts), recorded with the step and the policy version that wrote it.
 *
 * - A commit applies only `diffEdits(prev, next)` to the store map, so its cost is O(changed records),
 *   not O(memory) (bench/memory/consolidation.bench.ts measures it as memory grows).
 * - Version numbers are monotone (0 = empty memory); the content id is the PMap root id, so two runs
 *   that reach the same memory name it with the same id.
 * - `checkout(v)` rebuilds the exact MemoryState of any version (round-trips through the canonical codec).
 * Thin on purpose: history, files, branches and diffs belong to the store.
 */
import { PMap } from "./store/PMap.ts"
import { diffEdits, emptyMemory, fromEntries, type MemoryState, type MemoryValue } from "./state.ts"
import { MemoryInputError, type WriteContext } from "./types.ts"

export interface VersionRecord {
  readonly version: number
  /** Content id of the memory at this version (PMap root id). */
  readonly id: string
  readonly step: number
  readonly policyVersion: number
  /** Store entries written or deleted by this version. */
  readonly changed: number
  /** What wrote it (e.g. "experience", "reflector", "consolidator"). */
  readonly writer: string
}

export interface VersionedMemory {
  readonly state: MemoryState
  readonly map: PMap<MemoryValue>
  readonly maps: ReadonlyArray<PMap<MemoryValue>>
  readonly log: ReadonlyArray<VersionRecord>
}

export const initVersioned = (): VersionedMemory => {
  const map = PMap.empty<MemoryValue>()
  return { state: emptyMemory, map, maps: [map], log: [{ version: 0, id: map.id, step: 0, policyVersion: 0, changed: 0, writer: "init" }] }
}

export const head = (vm: VersionedMemory): VersionRecord => vm.log[vm.log.length - 1]!

/** Record `next` as a new version (always a new version number, even when nothing changed). */
export const commit = (vm: VersionedMemory, next: MemoryState, ctx: WriteContext, writer: string): VersionedMemory => {
  const last = head(vm)
  if (ctx.step < last.step) throw new MemoryInputError(`commit at step ${ctx.step} after step ${last.step}: steps must not go back`)
  const edits = diffEdits(vm.state, next)
  const map = edits.length === 0 ? vm.map : vm.map.update(edits)
  const rec: VersionRecord = { version: last.version + 1, id: map.id, step: ctx.step, policyVersion: ctx.policyVersion, changed: edits.length, writer }
  return { state: next, map, maps: [...vm.maps, map], log: [...vm.log, rec] }
}

/** The exact memory of version `v`, decoded from the store. */
export const checkout = (vm: VersionedMemory, v: number): MemoryState => {
  const map = vm.maps[v]
  if (!map) throw new MemoryInputError(`no memory version ${v} (head is ${head(vm).version})`)
  return fromEntries(map.entries())
}
