/**
 * The verifier as an actor of the runtime kernel (src/runtime/): a thin shell whose handler forwards a
 * `VerifyBatch` to the pool and replies with the results in rollout-id order.
 *
 * The actor handles one batch at a time (the training loop sends one per step); the pool fans each batch
 * out to its worker threads. A defect in the shell restarts it and re-delivers the batch, which is safe
 * because verification is pure. Refused batches (`InvalidBatch`) go back to the asker as typed failures.
 *
 * Also a `VerifierPoolService` with a `layer`, for code that wants the pool without an actor in between.
 */
import { Context, Effect, Layer, type Scope } from "effect"
import * as ActorSystem from "../../src/runtime/ActorSystem.ts"
import { behavior, type ActorRef, type Behavior } from "../../src/runtime/Actor.ts"
import type { DuplicateActor } from "../../src/runtime/Errors.ts"
import { makePool, type PoolOptions, type VerifierPool } from "./pool.ts"
import { VerifierIn, type InvalidBatch, type VerifyResult } from "./protocol.ts"

export interface VerifierState {
  readonly batches: number
  readonly verdicts: number
}

export type VerifierRef = ActorRef<VerifierIn, ReadonlyArray<VerifyResult>, InvalidBatch>

/** The actor's behavior over a running pool. */
export const verifierBehavior = (
  pool: VerifierPool,
  name = "verifier"
): Behavior<VerifierState, VerifierIn, ReadonlyArray<VerifyResult>, InvalidBatch> =>
  behavior({
    name,
    initial: { batches: 0, verdicts: 0 },
    inbox: VerifierIn,
    capacity: 8,
    // A batch can legitimately take several time-outs when faults are injected.
    askTimeout: "Infinity",
    handle: (state: VerifierState, msg: VerifierIn) =>
      pool.verify(msg.requests).pipe(
        Effect.map((results) => [{ batches: state.batches + 1, verdicts: state.verdicts + results.length }, results] as const)
      )
  })

/** Starts a pool in the current scope and the actor over it in the ambient ActorSystem. */
export const spawnVerifier = (
  options: PoolOptions,
  name = "verifier"
): Effect.Effect<{ readonly ref: VerifierRef; readonly pool: VerifierPool }, DuplicateActor, ActorSystem.ActorSystem | Scope.Scope> =>
  Effect.gen(function*() {
    const pool = yield* makePool(options)
    const ref = yield* ActorSystem.spawn(verifierBehavior(pool, name))
    return { ref, pool }
  })

/** The pool as a service. */
export class VerifierPoolService extends Context.Service<VerifierPoolService, VerifierPool>()(
  "pmdsim/actors/verifier/VerifierPool"
) {
  static readonly layer = (options: PoolOptions): Layer.Layer<VerifierPoolService> =>
    Layer.effect(VerifierPoolService, makePool(options))
}
