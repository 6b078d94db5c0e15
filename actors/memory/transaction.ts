/**
 * One Remember, all or nothing: if the transition fails (a typed error or a defect from a collaborator,
 * e.g. the consolidator actor dying between the reflector's commit and its own), the memory is exactly what
 * it was before the message, so the kernel's promise (state committed only when the handler succeeds, and a
 * defect re-delivered against the last committed state) holds for the memory too. The versioned memory's
 * own transaction does the bookkeeping (src/memory/versioned.ts: commits staged off the branch head,
 * published at once or rolled back); the memory object keeps its identity (the run's quality report reads it).
 */
import { Effect, Exit } from "effect"
import type { VersionedMemory } from "../../src/memory/versioned.ts"

/** Runs `body` (which commits into `vm`) as one transaction: published if it succeeds, rolled back otherwise. */
export const atomically = <A, E, R>(vm: VersionedMemory, body: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.suspend(() => {
    const tx = vm.transaction()
    return body.pipe(Effect.onExit((exit) => Effect.sync(() => (Exit.isSuccess(exit) ? tx.publish() : tx.rollback()))))
  })
