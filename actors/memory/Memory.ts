/**
 * The memory actor: owns the MemoryKeeper (experience, reflector, consolidator, versions). The
 * reflector and consolidator run inside its handler on the batch the orchestrator sends, in canonical
 * problem-id order, so their results never depend on arrival order. Reads pin an immutable version.
 */
import { Effect } from "effect"
import { behavior, type Behavior } from "../../src/runtime/Actor.ts"
import type { Rng } from "../../src/core/Rng.ts"
import type { MemoryRead, MemoryStatus, RememberRequest } from "../orchestrator/ports.ts"
import type { MemoryKeeper } from "./keeper.ts"

export type MemoryIn =
  | { readonly _tag: "Remember"; readonly request: RememberRequest }
  | { readonly _tag: "Read"; readonly lag: number }
  | { readonly _tag: "Freeze" }
  | { readonly _tag: "Status" }
  | { readonly _tag: "Keeper" }

export type MemoryOut =
  | { readonly _tag: "Status"; readonly status: MemoryStatus }
  | { readonly _tag: "Read"; readonly read: MemoryRead }
  | { readonly _tag: "Keeper"; readonly keeper: MemoryKeeper }

export const memoryStatus = (k: MemoryKeeper): MemoryStatus => ({ newest: k.newest, sizes: k.sizes(), contentId: k.contentId() })

/** Pins version `newest - lag`: the closure reads only that immutable version. */
export const memoryRead = (k: MemoryKeeper, lag: number): MemoryRead => {
  const v = k.lagged(lag)
  return { seq: v.seq, id: v.id, viewOf: (problemId: string, rng: Rng) => k.view(v.id, problemId, rng) }
}

export const memoryReply = (
  fresh: () => MemoryKeeper,
  k: MemoryKeeper,
  msg: MemoryIn
): readonly [MemoryKeeper, MemoryOut] => {
  switch (msg._tag) {
    case "Remember": {
      const r = msg.request
      // PMD-Transient: this step's memory is built from the batch alone, used once, discarded
      const keeper = r.fresh ? fresh() : k
      const ctx = { step: r.step, policyVersion: r.policyVersion }
      keeper.recordOutcomes(r.fresh ? [] : r.outcomes, ctx)
      keeper.afterRollouts(r.groups, ctx, r.consolidate)
      return [keeper, { _tag: "Status", status: memoryStatus(keeper) }]
    }
    case "Read":
      return [k, { _tag: "Read", read: memoryRead(k, msg.lag) }]
    case "Freeze":
      k.frozen = true
      return [k, { _tag: "Status", status: memoryStatus(k) }]
    case "Status":
      return [k, { _tag: "Status", status: memoryStatus(k) }]
    case "Keeper":
      return [k, { _tag: "Keeper", keeper: k }]
  }
}

/** Narrows a reply to the tag the request expects (a mismatch is a bug: a defect). */
export const expectMemory = <T extends MemoryOut["_tag"]>(out: MemoryOut, tag: T): Extract<MemoryOut, { _tag: T }> => {
  if (out._tag !== tag) throw new Error(`memory actor replied ${out._tag}, expected ${tag}`)
  return out as Extract<MemoryOut, { _tag: T }>
}

export const memoryBehavior = (initial: MemoryKeeper, fresh: () => MemoryKeeper): Behavior<MemoryKeeper, MemoryIn, MemoryOut> =>
  behavior({
    name: "memory",
    initial,
    capacity: 4,
    askTimeout: "Infinity",
    handle: (k: MemoryKeeper, msg: MemoryIn) => Effect.sync(() => memoryReply(fresh, k, msg))
  })
