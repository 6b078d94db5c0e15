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
 * - `deliver` is the boundary for messages from outside the process: it decodes a `WireEnvelope`
 *   (src/protocol/Envelope.ts), finds the addressed actor, and validates the body with its inbox schema.
 */
import { Context, Deferred, Effect, Layer, Schema, Scope } from "effect"
import { WireEnvelope } from "../protocol/Envelope.ts"
import { type ActorRef, type Behavior, start } from "./Actor.ts"
import { ActorStopped, DuplicateActor, InvalidMessage, RestartBudgetExhausted, UnknownActor } from "./Errors.ts"

export interface ActorSystemShape {
  /** Starts an actor in the system's scope. */
  readonly spawn: <S, M, O = void, E = never, R = never>(
    behavior: Behavior<S, M, O, E, R>
  ) => Effect.Effect<ActorRef<M, O, E>, DuplicateActor, R>
  /** Fails with the first fatal error of any actor; never succeeds. */
  readonly failure: Effect.Effect<never, RestartBudgetExhausted>
  /** Routes an untrusted wire envelope to the named actor, validating envelope and body. */
  readonly deliver: (input: unknown) => Effect.Effect<void, InvalidMessage | UnknownActor | ActorStopped>
  /** Runs `program`, failing it with the first fatal error if one happens before it ends. */
  readonly supervise: <A, E, R>(program: Effect.Effect<A, E, R>) => Effect.Effect<A, E | RestartBudgetExhausted, R>
}

export class ActorSystem extends Context.Service<ActorSystem, ActorSystemShape>()("pmdsim/runtime/ActorSystem") {
  static readonly layer: Layer.Layer<ActorSystem> = Layer.effect(ActorSystem, Effect.suspend(() => make))
}

const decodeEnvelope = Schema.decodeUnknownEffect(WireEnvelope)
const addressee = (input: unknown): string =>
  typeof input === "object" && input !== null && typeof (input as { to?: unknown }).to === "string"
    ? (input as { to: string }).to
    : "<unaddressed>"

/** Builds a system whose actors live in the current scope. */
export const make: Effect.Effect<ActorSystemShape, never, Scope.Scope> = Effect.gen(function*() {
  const scope = yield* Scope.Scope
  const fatal = yield* Deferred.make<never, RestartBudgetExhausted>()
  const actors = new Map<string, (input: unknown) => Effect.Effect<void, InvalidMessage | ActorStopped>>()
  const onFatal = (error: RestartBudgetExhausted) => Deferred.fail(fatal, error).pipe(Effect.asVoid)
  const failure = Deferred.await(fatal)
  const system: ActorSystemShape = {
    spawn: <S, M, O = void, E = never, R = never>(behavior: Behavior<S, M, O, E, R>) =>
      Effect.suspend(() => {
        if (actors.has(behavior.name)) return Effect.fail(new DuplicateActor({ actor: behavior.name }))
        // reserve the name at once, so that two concurrent spawns cannot both take it
        actors.set(behavior.name, () => Effect.fail(new ActorStopped({ actor: behavior.name, reason: "starting" })))
        return start(behavior, scope, onFatal).pipe(
          Effect.tap((ref) => Effect.sync(() => actors.set(ref.name, ref.tellUnknown)))
        )
      }),
    deliver: (input) =>
      decodeEnvelope(input).pipe(
        Effect.mapError((e) => new InvalidMessage({ actor: addressee(input), problem: `bad envelope: ${e.message}` })),
        Effect.flatMap((envelope): Effect.Effect<void, InvalidMessage | UnknownActor | ActorStopped> => {
          const tell = actors.get(envelope.to)
          return tell === undefined ? Effect.fail(new UnknownActor({ actor: envelope.to })) : tell(envelope.body)
        })
      ),
    failure,
    // A program that fails because an actor died (ActorStopped) reports the fatal cause instead.
    supervise: (program) =>
      Effect.raceFirst(program, failure).pipe(
        Effect.catchCause((cause) =>
          Deferred.isDone(fatal).pipe(Effect.flatMap((dead) => (dead ? failure : Effect.failCause(cause))))
        )
      )
  }
  return system
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
