/**
 * The one call a training step makes on the memory actor (actors/orchestrator/step.ts): a Remember with the
 * step's verified rollouts, or a Freeze (Frozen-Memory, once the memory stops growing). It is all the
 * memory pipeline consumes from the rest of the run, so recording it per step (rollouts.jsonl) is enough to
 * rebuild the memory without the policy, and applying it (`applyMemoryCall`) goes through the memory
 * actor's own transition (`memoryTransition`, the one path of the plain loop and the actors), with the
 * reflector and consolidator answered in place, as the plain loop does.
 */
import { Effect } from "effect"
import { type MemoryIn, type MemoryKeeper, type MemoryRestore, memoryTransition, type RememberRequest } from "../../../actors/memory/index.ts"
import type { MemoryViewData, StreamKey, VersionRef } from "../../protocol/records.ts"

export type MemoryCall =
  | { readonly _tag: "Remember"; readonly request: RememberRequest }
  | { readonly _tag: "Freeze" }

/**
 * Applies one call to `keeper` (in place, as the memory actor does). `fresh` builds PMD-Transient's
 * throw-away keeper; the keeper to continue with is returned.
 */
export const applyMemoryCall = (keeper: MemoryKeeper, call: MemoryCall, fresh: () => MemoryKeeper): MemoryKeeper =>
  send(keeper, call._tag === "Freeze" ? { _tag: "Freeze" } : { _tag: "Remember", request: call.request }, fresh)

/** A fork's starting point: its checkpoint's memory flags and Memp store, by the memory's own `Restore`. */
export const restoreMemory = (keeper: MemoryKeeper, restore: MemoryRestore): MemoryKeeper => send(keeper, { _tag: "Restore", restore }, noFresh)

/** What a teacher sees of a problem at a version, retrieved with `stream`: the memory's own `Views`. */
export const viewAt = (keeper: MemoryKeeper, version: VersionRef, problemId: string, stream: StreamKey): MemoryViewData => {
  const out = Effect.runSync(memoryTransition({ fresh: noFresh, collaborators: null }, keeper, { _tag: "Views", version, queries: [{ problemId, stream }] }))[1]
  if (out._tag !== "Views") throw new Error(`memory-replay: Views answered ${out._tag} (a bug)`)
  return out.views[0]!.view
}

const noFresh = (): MemoryKeeper => {
  throw new Error("memory-replay: a fresh (PMD-Transient) memory was asked for (a bug)")
}

/** One message through the memory's transition, with the reflector and consolidator answered in place. */
const send = (keeper: MemoryKeeper, msg: MemoryIn, fresh: () => MemoryKeeper): MemoryKeeper =>
  Effect.runSync(memoryTransition({ fresh, collaborators: null }, keeper, msg))[0]
