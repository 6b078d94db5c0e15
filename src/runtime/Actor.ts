/**
 * The actor kernel: one supervised fiber per actor, a bounded mailbox, a typed inbox.
 *
 * Guarantees:
 * - Mailboxes are bounded `Queue`s: a sender to a full mailbox is suspended until the actor takes
 *   (back-pressure); nothing in the kernel grows without bound.
 * - Messages are handled one at a time, in mailbox order. The state returned by `handle` is committed
 *   only when the handler succeeds.
 * - Typed failures (`E`) leave the state unchanged and go to the asker (or to a warning log for a tell).
 * - Defects restart the actor: back-off on Effect's Clock, a warning log with the reason, then the same
 *   message is re-delivered against the last committed state, so a transient crash does not change
 *   results. Side effects a handler performed before crashing (e.g. a tell) happen again on
 *   re-delivery: send last, or make sends idempotent.
 * - More restarts than the policy's budget inside its window stop the actor and report
 *   `RestartBudgetExhausted` to the system (fatal). A stopped actor fails every pending and later
 *   tell/ask with `ActorStopped`: nothing waits forever on a dead actor.
 * - Messages from outside the process enter through `tellUnknown` / `askUnknown`, which decode them
 *   with the actor's inbox schema and fail with `InvalidMessage` (actor + schema problem) if bad.
 * - With a `recorder`, each handled message appends a "message" and a "state" digest at step = the
 *   message's index, so the actor's history is journaled (see Journal.ts for the ordering rule); a
 *   message whose digests cannot be taken counts as a crash, so the journal never holds half a step.
 * - With a `TraceSink` in context when the actor starts (Trace.ts), each handled message is a timed slice
 *   on the actor's track, with the step and versions found in the message and reply; wall times only.
 * - With a `MessageTap` in context when the actor starts (Tap.ts), each handled message and its reply are
 *   shown to it (tests of what crosses actor boundaries).
 *
 * Spawn actors through `ActorSystem` (ActorSystem.ts), which owns their scope and the fatal signal.
 */
import { Cause, Clock, Deferred, Duration, Effect, Exit, Option, Queue, Result, Schema, Scope } from "effect"
import { hashValue } from "../core/Hash.ts"
import { ActorStopped, AskTimeout, InvalidMessage, RestartBudgetExhausted } from "./Errors.ts"
import type { Recorder } from "./Journal.ts"
import { MessageTap } from "./Tap.ts"
import { messageName, traced, TraceSink, versionArgs } from "./Trace.ts"
import {
  backoffMillis,
  checkDuration,
  exhausted,
  recordRestart,
  resolvePolicy,
  type SupervisionPolicy
} from "./Supervision.ts"

/** How an actor behaves: its name, initial state and message handler, plus optional knobs. */
export interface Behavior<S, M, O = void, E = never, R = never> {
  /** Unique within a system; names journal entries and log lines. */
  readonly name: string
  readonly initial: S
  /** Handles one message: the next state and the reply (`undefined` for tell-only actors). */
  readonly handle: (state: S, msg: M) => Effect.Effect<readonly [S, O], E, R>
  /** Schema of the inbox (a tagged union), used to validate messages from outside the process. */
  readonly inbox?: Schema.Decoder<M>
  /** Mailbox capacity (default 64). */
  readonly capacity?: number
  readonly supervision?: Partial<SupervisionPolicy>
  /** Default ask timeout, on Effect's Clock (default 5 minutes; "Infinity" disables it). */
  readonly askTimeout?: Duration.Input
  /** Journal every handled message and resulting state (their digests, through `journalView`). */
  readonly recorder?: Recorder
  /**
   * What of a message / state is hashed into the journal (default: all of it). Use it when the state
   * holds something the codec cannot encode (a tensor, a handle): journal a hash of the weights instead.
   */
  readonly journalView?: { readonly message?: (msg: M) => unknown; readonly state?: (state: S) => unknown }
}

/**
 * Identity that types a behavior defined apart from `spawn` (keeps duration literals such as
 * "1 minute" from widening to string).
 */
export const behavior = <S, M, O = void, E = never, R = never>(b: Behavior<S, M, O, E, R>): Behavior<S, M, O, E, R> =>
  b

export interface AskOptions {
  readonly timeout?: Duration.Input
}

/** A handle to a running actor. */
export interface ActorRef<M, O = void, E = never> {
  readonly name: string
  /** Enqueues a message; suspends while the mailbox is full. */
  readonly tell: (msg: M) => Effect.Effect<void, ActorStopped>
  /** Enqueues a message and waits for the handler's reply or typed failure. */
  readonly ask: (msg: M, options?: AskOptions) => Effect.Effect<O, E | ActorStopped | AskTimeout>
  /** Validates an untrusted message against the inbox schema, then tells it. */
  readonly tellUnknown: (input: unknown) => Effect.Effect<void, InvalidMessage | ActorStopped>
  /** Validates an untrusted message against the inbox schema, then asks it. */
  readonly askUnknown: (
    input: unknown,
    options?: AskOptions
  ) => Effect.Effect<O, E | InvalidMessage | ActorStopped | AskTimeout>
  /** Restarts so far (for tests and metrics). */
  readonly restarts: Effect.Effect<number>
}

type Reply<O, E> = Deferred.Deferred<O, E | ActorStopped>
interface Envelope<M, O, E> {
  readonly msg: M
  readonly reply: Reply<O, E> | undefined
}

const DEFAULT_CAPACITY = 64
const DEFAULT_ASK_TIMEOUT: Duration.Input = "5 minutes"

const identity = (u: unknown): unknown => u
const describe = (u: unknown): string => (u instanceof Error ? `${u.name}: ${u.message}` : String(u))

/**
 * Starts an actor in `scope`. `onFatal` is called once if its restart budget runs out.
 * Prefer `ActorSystem.spawn`, which supplies both.
 */
export const start = <S, M, O, E, R>(
  behavior: Behavior<S, M, O, E, R>,
  scope: Scope.Scope,
  onFatal: (error: RestartBudgetExhausted) => Effect.Effect<void>
): Effect.Effect<ActorRef<M, O, E>, never, R> =>
  Effect.gen(function*() {
    const name = behavior.name
    // bad knobs fail the spawn loudly, never the running actor later
    const policy = resolvePolicy(behavior.supervision)
    if (behavior.askTimeout !== undefined) checkDuration(`actor ${behavior.name}: askTimeout`, behavior.askTimeout)
    const recorder = behavior.recorder
    const view = { message: behavior.journalView?.message ?? identity, state: behavior.journalView?.state ?? identity }
    const capacity = behavior.capacity ?? DEFAULT_CAPACITY
    if (!Number.isInteger(capacity) || capacity < 1) {
      return yield* Effect.die(new RangeError(`actor ${name}: capacity must be a positive integer, got ${capacity}`))
    }
    const mailbox = yield* Queue.bounded<Envelope<M, O, E>>(capacity)
    const trace = yield* Effect.serviceOption(TraceSink)
    const tap = yield* Effect.serviceOption(MessageTap)
    const handle = (state: S, msg: M): Effect.Effect<readonly [S, O], E, R> =>
      Option.isNone(trace)
        ? behavior.handle(state, msg)
        : traced(name, messageName(msg), behavior.handle(state, msg), ([, out]) => ({ ...versionArgs("", msg), ...versionArgs("reply.", out) })).pipe(
          Effect.provideService(TraceSink, trace.value)
        )
    // Replies not yet completed: failed with ActorStopped when the actor stops, wherever they wait.
    const outstanding = new Set<Reply<O, E>>()
    let stopped: ActorStopped | undefined
    let restarts = 0

    const stop = (reason: string) =>
      Effect.suspend(() => {
        if (stopped !== undefined) return Effect.void
        const error = new ActorStopped({ actor: name, reason })
        stopped = error
        const waiting = [...outstanding]
        outstanding.clear()
        // shutdown releases senders suspended on a full mailbox (their offer returns false)
        return Queue.shutdown(mailbox).pipe(Effect.andThen(Effect.forEach(waiting, (d) => Deferred.fail(d, error))))
      })

    const complete = (env: Envelope<M, O, E>, exit: Exit.Exit<O, E>) =>
      env.reply === undefined
        ? Effect.void
        : Effect.suspend(() => {
          outstanding.delete(env.reply!)
          return Deferred.done(env.reply!, exit)
        })

    const loop = Effect.gen(function*() {
      let state = behavior.initial
      let pending: Envelope<M, O, E> | undefined
      let handled = 0
      let history: Array<number> = []
      let streak = 0
      while (true) {
        const env = pending ?? (yield* Queue.take(mailbox))
        pending = env
        // digests are taken inside the supervised region, before anything is appended: an unencodable
        // state is a crash of this message (and, being deterministic, ends as RestartBudgetExhausted)
        const exit = yield* Effect.exit(
          recorder === undefined ? handle(state, env.msg) : handle(state, env.msg).pipe(
            Effect.tap(([next]) => {
              const digests = [hashValue(view.message(env.msg)), hashValue(view.state(next))] as const
              return recorder.recordDigest({ step: handled, kind: "message", actor: name, digest: digests[0] }).pipe(
                Effect.andThen(recorder.recordDigest({ step: handled, kind: "state", actor: name, digest: digests[1] }))
              )
            })
          )
        )
        if (Exit.isSuccess(exit)) {
          const [next, out] = exit.value
          state = next
          pending = undefined
          streak = 0
          handled++
          if (Option.isSome(tap)) tap.value.onHandled({ actor: name, msg: env.msg, reply: out })
          yield* complete(env, Exit.succeed(out))
          continue
        }
        // If this fiber itself is interrupted (scope closing) we never get here; an interruption seen here
        // came from inside the handler (e.g. it awaited an interrupted fiber) and counts as a crash.
        const cause = exit.cause
        const error = Cause.findError(cause)
        if (!Cause.hasDies(cause) && !Cause.hasInterrupts(cause) && Result.isSuccess(error)) {
          pending = undefined
          if (env.reply === undefined) {
            yield* Effect.logWarning(`[${name}] message failed, state unchanged: ${describe(error.success)}`)
          }
          yield* complete(env, Exit.fail(error.success))
          continue
        }
        // A defect: restart (re-deliver `pending` against the committed state) or give up.
        const reason = describe(Cause.squash(cause))
        history = recordRestart(history, yield* Clock.currentTimeMillis, policy)
        if (exhausted(history, policy)) {
          const fatal = new RestartBudgetExhausted({ actor: name, restarts, lastReason: reason })
          yield* Effect.logError(`[${name}] restart budget exhausted after ${restarts} restarts: ${reason}`)
          // fatal first: a program failing on ActorStopped then sees the fatal error already set
          yield* onFatal(fatal)
          return yield* stop(`restart budget exhausted: ${reason}`)
        }
        restarts++
        streak++
        const delay = backoffMillis(streak, policy)
        yield* Effect.logWarning(`[${name}] crashed: ${reason}; restart ${restarts} in ${delay} ms, re-delivering`)
        if (recorder !== undefined) {
          yield* recorder.record({ step: handled, kind: "restart", actor: name, value: reason })
        }
        yield* Effect.sleep(Duration.millis(delay))
      }
    })
    yield* Effect.forkIn(loop.pipe(Effect.ensuring(stop("actor stopped"))), scope)

    const closed = () => stopped ?? new ActorStopped({ actor: name, reason: "mailbox closed" })
    const offer = (env: Envelope<M, O, E>) =>
      Effect.suspend(() => stopped !== undefined ? Effect.succeed(false) : Queue.offer(mailbox, env))

    const tell = (msg: M): Effect.Effect<void, ActorStopped> =>
      offer({ msg, reply: undefined }).pipe(Effect.flatMap((ok) => (ok ? Effect.void : Effect.fail(closed()))))

    const withTimeout = <A, Err>(eff: Effect.Effect<A, Err>, options: AskOptions | undefined) => {
      const duration = Duration.fromInputUnsafe(options?.timeout ?? behavior.askTimeout ?? DEFAULT_ASK_TIMEOUT)
      if (!Duration.isFinite(duration)) return eff
      const timeoutMillis = Duration.toMillis(duration)
      return Effect.timeoutOrElse(eff, {
        duration,
        orElse: () => Effect.fail(new AskTimeout({ actor: name, timeoutMillis }))
      })
    }

    const ask = (msg: M, options?: AskOptions): Effect.Effect<O, E | ActorStopped | AskTimeout> =>
      Effect.suspend(() => {
        const reply = Deferred.makeUnsafe<O, E | ActorStopped>()
        outstanding.add(reply)
        const body = offer({ msg, reply }).pipe(
          Effect.flatMap((ok) => (ok ? Deferred.await(reply) : Effect.fail(closed()))),
          Effect.ensuring(Effect.sync(() => outstanding.delete(reply)))
        )
        return withTimeout(body, options)
      })

    const decodeInbox = behavior.inbox === undefined ? undefined : Schema.decodeUnknownEffect(behavior.inbox)
    const validate = (input: unknown): Effect.Effect<M, InvalidMessage> =>
      decodeInbox === undefined
        ? Effect.fail(new InvalidMessage({ actor: name, problem: "actor has no inbox schema" }))
        : decodeInbox(input).pipe(Effect.mapError((e) => new InvalidMessage({ actor: name, problem: e.message })))

    return {
      name,
      tell,
      ask,
      tellUnknown: (input) => validate(input).pipe(Effect.flatMap(tell)),
      askUnknown: (input, options) => validate(input).pipe(Effect.flatMap((msg) => ask(msg, options))),
      restarts: Effect.sync(() => restarts)
    }
  })
