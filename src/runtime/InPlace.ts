/**
 * An actor's behavior run by its caller: no fiber, no mailbox, no supervision. Its state lives in the
 * returned closure and, as in the kernel (Actor.ts), is committed only when the handler succeeds; a typed
 * failure or a defect goes to the caller, the state unchanged. The same behavior therefore gives the same
 * replies in place as spawned, message for message: only scheduling differs. The plain loop of a run (the
 * pipeline's `directPorts`) runs every actor this way.
 *
 * Not re-entrant: a handler must not ask its own actor (none does; the kernel would deadlock on that too).
 */
import { Effect } from "effect"
import type { Behavior } from "./Actor.ts"

export const inPlace = <S, M, O, E, R>(b: Behavior<S, M, O, E, R>): ((msg: M) => Effect.Effect<O, E, R>) => {
  let state = b.initial
  return (msg) =>
    Effect.suspend(() => b.handle(state, msg)).pipe(Effect.map(([next, out]) => {
      state = next
      return out
    }))
}
