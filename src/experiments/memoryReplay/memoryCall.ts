/**
 * The one call a training step makes on the memory actor (actors/orchestrator/step.ts): a Remember with the
 * step's verified rollouts, or a Freeze (Frozen-Memory, once the memory stops growing). It is all the
 * memory pipeline consumes from the rest of the run, so recording it per step (rollouts.jsonl) is enough to
 * rebuild the memory without the policy, and applying it (`applyMemoryCall`) goes through the memory
 * actor's own transition (`memoryTransition`, the one path of the plain loop and the actors), with the
 * reflector and consolidator answered in place, as the plain loop does.
 */
import { Effect } from "effect"
import type { MemoryKeeper } from "../../../actors/memory/keeper.ts"
import { memoryTransition } from "../../../actors/memory/Memory.ts"
import type { RememberRequest } from "../../../actors/orchestrator/ports.ts"

export type MemoryCall =
  | { readonly _tag: "Remember"; readonly request: RememberRequest }
  | { readonly _tag: "Freeze" }

/**
 * Applies one call to `keeper` (in place, as the memory actor does). `fresh` builds PMD-Transient's
 * throw-away keeper; the keeper to continue with is returned.
 */
export const applyMemoryCall = (keeper: MemoryKeeper, call: MemoryCall, fresh: () => MemoryKeeper): MemoryKeeper =>
  Effect.runSync(memoryTransition({ fresh, collaborators: null }, keeper, call._tag === "Freeze" ? { _tag: "Freeze" } : { _tag: "Remember", request: call.request }))[0]
