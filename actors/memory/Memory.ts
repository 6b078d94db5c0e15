/**
 * The memory actor: owns the MemoryKeeper (the versioned memory). Each step it records experience,
 * asks the reflector actor for the batch's insights and, on the slow clock, the consolidator actor for
 * the behavior bank, and commits each result as a new version. Both collaborators process problems in
 * canonical id order, so results never depend on arrival order; they start from the keeper's insights
 * and bank, and every change they make comes back here, so their state and the keeper's stay equal.
 * Reads pin an immutable version. PMD-Transient's throw-away memory is computed in place.
 */
import { Effect } from "effect"
import { type ActorRef, behavior, type Behavior } from "../../src/runtime/Actor.ts"
import { expectTag } from "../../src/runtime/expectTag.ts"
import type { ProblemExperience } from "../../src/memory/experience/experience.ts"
import type { ConsolidatorInputError, ConsolidatorOut } from "../consolidator/Consolidator.ts"
import type { ConsolidatorIn } from "../consolidator/protocol.ts"
import type { ReflectorInputError, ReflectorOut } from "../reflector/Reflector.ts"
import type { ReflectorIn } from "../reflector/protocol.ts"
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

export interface Collaborators {
  readonly reflector: ActorRef<ReflectorIn, ReflectorOut, ReflectorInputError>
  readonly consolidator: ActorRef<ConsolidatorIn, ConsolidatorOut, ConsolidatorInputError>
}

/** One step's memory updates through the reflector and consolidator actors. */
const rememberWith = (k: MemoryKeeper, r: RememberRequest, c: Collaborators) =>
  Effect.gen(function*() {
    if (k.frozen) return
    const ctx = { step: r.step, policyVersion: r.policyVersion }
    if (k.consolidates) {
      // only behaviors the bank still holds (a lagged teacher may have used one a consolidation replaced)
      const uses = k.behaviorUses(r.outcomes)
      if (uses.length > 0) yield* c.consolidator.ask({ _tag: "RecordUses", uses })
    }
    k.recordOutcomes(r.outcomes, ctx)
    k.recordExperience(r.groups, ctx)
    if (k.reflects) {
      const experiences = [...new Set(r.groups.map((g) => g.problemId))].sort()
        .flatMap((id) => { const e = k.vm.state.experience.get(id); return e === undefined ? [] : [e as ProblemExperience] })
      const out = yield* c.reflector.ask({ _tag: "Reflect", step: r.step, policyVersion: r.policyVersion, experiences } as ReflectorIn)
      k.applyInsights(expectTag("reflector", out, "Reflected").changed, ctx)
    }
    if (k.consolidates && r.consolidate) {
      yield* c.consolidator.ask({ _tag: "Consolidate", step: r.step, policyVersion: r.policyVersion, problems: k.problemTokens, insights: [...k.vm.state.insights.values()] } as ConsolidatorIn)
      k.applyBank(expectTag("consolidator", yield* c.consolidator.ask({ _tag: "GetBank" }), "Bank").bank, ctx)
    }
  }).pipe(Effect.orDie)

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
export const expectMemory = <T extends MemoryOut["_tag"]>(out: MemoryOut, tag: T) => expectTag("memory", out, tag)

export const memoryBehavior = (initial: MemoryKeeper, fresh: () => MemoryKeeper, collaborators: Collaborators): Behavior<MemoryKeeper, MemoryIn, MemoryOut> =>
  behavior({
    name: "memory",
    initial,
    capacity: 4,
    askTimeout: "Infinity",
    handle: (k: MemoryKeeper, msg: MemoryIn) =>
      msg._tag === "Remember" && !msg.request.fresh
        ? rememberWith(k, msg.request, collaborators).pipe(Effect.map(() => [k, { _tag: "Status", status: memoryStatus(k) }] as const))
        : Effect.sync(() => memoryReply(fresh, k, msg))
  })
