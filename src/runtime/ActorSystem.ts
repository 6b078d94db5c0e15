/**
 * `ActorSystem`: the service that spawns actors in its scope and surfaces the first fatal error.
 *
 * Guarantees:
 * - Every actor it spawns lives in the system's scope: closing the scope (end of the layer, or of
 *   `run`) interrupts them all, and any ask still waiting fails with `ActorStopped`.
 * - Actor names are unique within a system (`DuplicateActor` otherwise): names key journals and
 *   canonical ordering.
 * - The first `RestartBudgetExhausted` of any actor completes `failure`; `supervise` / `run` race a
 *   program against it, so an exhausted budget fails the program with that typed error instead of
 *   letting it hang on a dead actor.
 */
import { Context, Deferred, Effect, Layer, Scope } from "effect"
import { type ActorRef, type Behavior, start } from "./Actor.ts"
import { DuplicateActor, RestartBudgetExhausted } from "./Errors.ts"

export interface ActorSystemShape {
  /** Starts an actor in the system's scope. */
  readonly spawn: <S, M, O = void, E = never, R = never>(
    behavior: Behavior<S, M, O, E, R>
  ) => Effect.Effect<ActorRef<M, O, E>, DuplicateActor, R>
  /** Fails with the first fatal error of any actor; never succeeds. */
  readonly failure: Effect.Effect<never, RestartBudgetExhausted>
  /** Runs `program`, failing it with the first fatal error if one happens before it ends. */
  readonly supervise: <A, E, R>(program: Effect.Effect<A, E, R>) => Effect.Effect<A, E | RestartBudgetExhausted, R>
}

export class ActorSystem extends Context.Service<ActorSystem, ActorSystemShape>()("pmdsim/runtime/ActorSystem") {
  static readonly layer: Layer.Layer<ActorSystem> = Layer.effect(ActorSystem, Effect.suspend(() => make))
}

/** Builds a system whose actors live in the current scope. */
export const make: Effect.Effect<ActorSystemShape, never, Scope.Scope> = Effect.gen(function*() {
  const scope = yield* Scope.Scope
  const fatal = yield* Deferred.make<never, RestartBudgetExhausted>()
  const names = new Set<string>()
  const onFatal = (error: RestartBudgetExhausted) => Deferred.fail(fatal, error).pipe(Effect.asVoid)
  const failure = Deferred.await(fatal)
  return {
    spawn: <S, M, O = void, E = never, R = never>(behavior: Behavior<S, M, O, E, R>) =>
      Effect.suspend(() => {
        if (names.has(behavior.name)) return Effect.fail(new DuplicateActor({ actor: behavior.name }))
        names.add(behavior.name)
        return start(behavior, scope, onFatal)
      }),
    failure,
    // A program that fails because an actor died (ActorStopped) reports the fatal cause instead.
    supervise: (program) =>
      Effect.raceFirst(program, failure).pipe(
        Effect.catchCause((cause) =>
          Deferred.isDone(fatal).pipe(Effect.flatMap((dead) => (dead ? failure : Effect.failCause(cause))))
        )
      )
  }
})

/** Spawns an actor in the ambient `ActorSystem`. */
export const spawn = <S, M, O = void, E = never, R = never>(
  behavior: Behavior<S, M, O, E, R>
): Effect.Effect<ActorRef<M, O, E>, DuplicateActor, R | ActorSystem> =>
  ActorSystem.use((system) => system.spawn(behavior))

/**
 * Runs `program` with a fresh system scoped to it: actors stop when it ends, and the first fatal
 * error fails it.
 */
export const run = <A, E, R>(
  program: Effect.Effect<A, E, R>
): Effect.Effect<A, E | RestartBudgetExhausted, Exclude<R, ActorSystem>> =>
  Effect.scoped(
    Effect.gen(function*() {
      const system = yield* make
      return yield* system.supervise(Effect.provideService(program, ActorSystem, system))
    })
  )
