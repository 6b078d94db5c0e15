/**
 * Which memory items a step created (pure), for lineage.jsonl: the items of the memory after the step whose
 * ids the memory before it did not hold, each with the rollouts it was made from.
 *
 * Cost O(changed records): memory updates share every untouched per-problem record by reference
 * (src/memory/state.ts), so a record equal by reference is skipped without a look inside; the bank and the
 * Memp store are compared by reference first too.
 */
import type { MempStore } from "../memory/memp/memp.ts"
import type { MemoryState } from "../memory/state.ts"
import type { ItemKind } from "../report/lineageFile.ts"

export interface MemorySnapshot {
  readonly state: MemoryState
  readonly memp: MempStore
}

export interface CreatedItem {
  readonly id: string
  readonly kind: ItemKind
  /** rollout ids it was made from (sorted) */
  readonly sources: ReadonlyArray<string>
}

/** The memory a keeper holds now (immutable values: later commits do not change them). */
export const memorySnapshot = (k: { readonly vm: { readonly state: MemoryState }; readonly memp: MempStore }): MemorySnapshot => ({ state: k.vm.state, memp: k.memp })

const byId = (a: CreatedItem, b: CreatedItem) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/** Items in `after` that `before` lacks, experience, insights, behaviors, Memp items in that order, each sorted by id. */
export const createdItems = (before: MemorySnapshot, after: MemorySnapshot): Array<CreatedItem> => {
  const experience: Array<CreatedItem> = []
  const insights: Array<CreatedItem> = []
  if (before.state.experience !== after.state.experience) {
    for (const [p, rec] of after.state.experience) {
      const old = before.state.experience.get(p)
      if (old === rec) continue
      const had = new Set(old === undefined ? [] : [...old.successes, ...old.failures].map((i) => i.id))
      for (const i of [...rec.successes, ...rec.failures]) if (!had.has(i.id)) experience.push({ id: i.id, kind: "experience", sources: [i.prov.rolloutId] })
    }
  }
  if (before.state.insights !== after.state.insights) {
    for (const [p, rec] of after.state.insights) {
      const old = before.state.insights.get(p)
      if (old === rec) continue
      const had = new Set(old === undefined ? [] : [...old.strategies, ...old.lessons].map((i) => i.id))
      for (const i of [...rec.strategies, ...rec.lessons]) if (!had.has(i.id)) insights.push({ id: i.id, kind: "insight", sources: [...i.sources.rolloutIds] })
    }
  }
  const behaviors: Array<CreatedItem> = []
  if (before.state.bank !== after.state.bank) {
    const had = new Set(before.state.bank.behaviors.map((b) => b.id))
    for (const b of after.state.bank.behaviors) if (!had.has(b.id)) behaviors.push({ id: b.id, kind: "behavior", sources: [...b.sources.rolloutIds] })
  }
  const memp: Array<CreatedItem> = []
  if (before.memp !== after.memp) {
    const had = new Set(before.memp.items.map((i) => i.id))
    for (const i of after.memp.items) if (!had.has(i.id)) memp.push({ id: i.id, kind: "memp", sources: [i.prov.rolloutId] })
  }
  return [...experience.sort(byId), ...insights.sort(byId), ...behaviors.sort(byId), ...memp.sort(byId)]
}
