/**
 * Memp-style bookkeeping on the PMD behavior bank: the top-1 behavior a teacher used gets hits + 1 and,
 * if the student's rollout succeeded, successes + 1. Counters only grow; the deprecation rule itself
 * (behavior.ts `isDeprecated`) is applied by the next consolidation, which removes and retires them.
 */
import { compareStrings } from "../../core/Order.ts"
import type { BehaviorBank } from "./behavior.ts"
import { MemoryInputError } from "../types.ts"

export interface BehaviorUse {
  readonly behaviorId: string
  readonly success: boolean
}

export const recordUses = (bank: BehaviorBank, uses: ReadonlyArray<BehaviorUse>): BehaviorBank => {
  if (uses.length === 0) return bank
  const delta = new Map<string, { hits: number; successes: number }>()
  const known = new Set(bank.behaviors.map((b) => b.id))
  for (const u of [...uses].sort((a, b) => compareStrings(a.behaviorId, b.behaviorId))) {
    if (!known.has(u.behaviorId)) throw new MemoryInputError(`use of unknown behavior ${u.behaviorId}`)
    const d = delta.get(u.behaviorId) ?? { hits: 0, successes: 0 }
    d.hits++
    if (u.success) d.successes++
    delta.set(u.behaviorId, d)
  }
  return {
    ...bank,
    behaviors: bank.behaviors.map((b) => {
      const d = delta.get(b.id)
      return d ? { ...b, hits: b.hits + d.hits, successes: b.successes + d.successes } : b
    })
  }
}
