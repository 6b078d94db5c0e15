import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Schema, Scope } from "effect"
import { TestClock } from "effect/testing"
import { behavior } from "../../src/runtime/Actor.ts"
import * as ActorSystem from "../../src/runtime/ActorSystem.ts"
import { driveClock } from "./driveClock.ts"

const CounterMsg = Schema.Union([
  Schema.TaggedStruct("Add", { n: Schema.Int }),
  Schema.TaggedStruct("Get", {}),
  Schema.TaggedStruct("Fail", {}),
  Schema.TaggedStruct("Crash", {})
])
type CounterMsg = typeof CounterMsg.Type

class Refused extends Schema.TaggedError<Refused>()("Refused", { at: Schema.Number }) {}

/** A counter whose Crash message dies while `crashes.left > 0` (an injected, possibly transient, defect). */
const counter = (crashes: { left: number }, name = "counter") =>
  behavior({
  name,
  initial: 0,
  inbox: CounterMsg,
  supervision: { maxRestarts: 3, within: "1 minute", backoff: "10 millis" },
  handle: (n: number, m: CounterMsg) => {
    switch (m._tag) {
      case "Add":
        return Effect.succeed([n + m.n, n + m.n] as const)
      case "Get":
        return Effect.succeed([n, n] as const)
      case "Fail":
        return Effect.fail(new Refused({ at: n }))
      case "Crash":
        if (crashes.left > 0) {
          crashes.left--
          // the state passed in must not be committed: mutate nothing, just die
          return Effect.die(new Error("injected crash"))
        }
        return Effect.succeed([n * 10, n * 10] as const)
    }
  }
  })

const script = (crashes: { left: number }) =>
  Effect.gen(function*() {
    const c = yield* ActorSystem.spawn(counter(crashes))
    yield* c.tell({ _tag: "Add", n: 2 })
    yield* c.tell({ _tag: "Crash" })
    yield* c.tell({ _tag: "Add", n: 3 })
    return { value: yield* c.ask({ _tag: "Get" }), restarts: yield* c.restarts }
  })

describe("actor kernel", () => {
  it.effect("a typed failure goes to the asker and leaves the state unchanged", () =>
    Effect.gen(function*() {
      const c = yield* ActorSystem.spawn(counter({ left: 0 }))
      yield* c.tell({ _tag: "Add", n: 5 })
      const err = yield* c.ask({ _tag: "Fail" }).pipe(Effect.flip)
      assert.strictEqual(err._tag, "Refused")
      assert.strictEqual(yield* c.ask({ _tag: "Get" }), 5)
    }).pipe(ActorSystem.run))

  it.effect("a transient crash restarts the actor, re-delivers the message, and changes no result", () =>
    Effect.gen(function*() {
      const clean = yield* driveClock(ActorSystem.run(script({ left: 0 })))
      const crashed = yield* driveClock(ActorSystem.run(script({ left: 2 })))
      assert.deepStrictEqual(clean, { value: 23, restarts: 0 })
      assert.deepStrictEqual(crashed, { value: 23, restarts: 2 })
    }))

  it.effect("an exhausted restart budget fails the system with RestartBudgetExhausted, without hanging", () =>
    Effect.gen(function*() {
      const exit = yield* driveClock(ActorSystem.run(script({ left: 100 })).pipe(Effect.exit))
      assert.isTrue(Exit.isFailure(exit))
      const err = yield* Effect.flip(Effect.suspend(() => exit))
      assert.strictEqual(err._tag, "RestartBudgetExhausted")
      if (err._tag === "RestartBudgetExhausted") {
        assert.strictEqual(err.actor, "counter")
        assert.strictEqual(err.restarts, 3)
        assert.match(err.lastReason, /injected crash/)
      }
    }))

  it.effect("asks pending on an actor whose system closes fail with ActorStopped", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const system = yield* ActorSystem.make.pipe(Scope.provide(scope))
      const gate = yield* Deferred.make<void>()
      const stuck = yield* system.spawn({
        name: "stuck",
        initial: 0,
        handle: (n: number, _: "ping") => Deferred.await(gate).pipe(Effect.as([n, n] as const))
      })
      const asking = yield* Effect.forkChild(stuck.ask("ping"))
      yield* Effect.yieldNow
      yield* Scope.close(scope, Exit.void)
      const err = yield* Fiber.join(asking).pipe(Effect.flip)
      assert.strictEqual(err._tag, "ActorStopped")
      const later = yield* stuck.tell("ping").pipe(Effect.flip)
      assert.strictEqual(later._tag, "ActorStopped")
    }))

  it.effect("ask times out on the Clock with AskTimeout", () =>
    Effect.gen(function*() {
      const slow = yield* ActorSystem.spawn({
        name: "slow",
        initial: 0,
        handle: (n: number, _: "work") => Effect.sleep("10 seconds").pipe(Effect.as([n, n] as const))
      })
      const asking = yield* Effect.forkChild(slow.ask("work", { timeout: "1 second" }))
      yield* TestClock.adjust("999 millis")
      assert.isUndefined(asking.pollUnsafe())
      yield* TestClock.adjust("1 millis")
      const err = yield* Fiber.join(asking).pipe(Effect.flip)
      assert.deepStrictEqual({ tag: err._tag, actor: err.actor }, { tag: "AskTimeout", actor: "slow" })
    }).pipe(ActorSystem.run))

  it.effect("a full mailbox suspends the sender until the actor takes", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const seen: Array<number> = []
      const actor = yield* ActorSystem.spawn({
        name: "gated",
        initial: 0,
        capacity: 1,
        handle: (n: number, m: number) =>
          Deferred.await(gate).pipe(Effect.andThen(Effect.sync(() => seen.push(m))), Effect.as([n + 1, n] as const))
      })
      yield* actor.tell(1) // taken by the actor, which blocks on the gate
      yield* Effect.yieldNow
      yield* actor.tell(2) // fills the mailbox (capacity 1)
      const third = yield* Effect.forkChild(actor.tell(3))
      for (let i = 0; i < 20; i++) yield* Effect.yieldNow
      assert.isUndefined(third.pollUnsafe(), "the sender must be suspended")
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(third)
      assert.strictEqual(yield* actor.ask(4), 3)
      assert.deepStrictEqual(seen, [1, 2, 3, 4])
    }).pipe(ActorSystem.run))

  it.effect("tellUnknown validates at the boundary and names the actor and the problem", () =>
    Effect.gen(function*() {
      const c = yield* ActorSystem.spawn(counter({ left: 0 }))
      yield* c.tellUnknown({ _tag: "Add", n: 4 })
      const bad = yield* c.tellUnknown({ _tag: "Add", n: "four" }).pipe(Effect.flip)
      assert.strictEqual(bad._tag, "InvalidMessage")
      if (bad._tag === "InvalidMessage") {
        assert.strictEqual(bad.actor, "counter")
        assert.match(bad.problem, /Expected number/)
        assert.match(bad.problem, /n/)
      }
      const unknownTag = yield* c.askUnknown({ _tag: "Drop" }).pipe(Effect.flip)
      assert.strictEqual(unknownTag._tag, "InvalidMessage")
      assert.strictEqual(yield* c.askUnknown({ _tag: "Get" }), 4)
    }).pipe(ActorSystem.run))

  it.effect("actor names are unique within a system", () =>
    Effect.gen(function*() {
      yield* ActorSystem.spawn(counter({ left: 0 }))
      const err = yield* ActorSystem.spawn(counter({ left: 0 })).pipe(Effect.flip)
      assert.deepStrictEqual({ tag: err._tag, actor: err.actor }, { tag: "DuplicateActor", actor: "counter" })
    }).pipe(ActorSystem.run))
})

describe("actor system boundary", () => {
  it.effect("deliver routes a wire envelope to the named actor and validates envelope and body", () =>
    Effect.gen(function*() {
      const system = yield* ActorSystem.ActorSystem
      const c = yield* system.spawn(counter({ left: 0 }))
      yield* system.deliver({ to: "counter", from: "cli", seq: 0, body: { _tag: "Add", n: 7 } })
      assert.strictEqual(yield* c.ask({ _tag: "Get" }), 7)
      const badBody = yield* system.deliver({ to: "counter", from: "cli", seq: 1, body: { _tag: "Add" } }).pipe(
        Effect.flip
      )
      assert.deepStrictEqual([badBody._tag, badBody.actor], ["InvalidMessage", "counter"])
      const badEnvelope = yield* system.deliver({ to: "counter", body: {} }).pipe(Effect.flip)
      assert.strictEqual(badEnvelope._tag, "InvalidMessage")
      assert.match(badEnvelope.message, /bad envelope/)
      const nobody = yield* system.deliver({ to: "nobody", from: "cli", seq: 2, body: {} }).pipe(Effect.flip)
      assert.deepStrictEqual([nobody._tag, nobody.actor], ["UnknownActor", "nobody"])
    }).pipe(Effect.provide(ActorSystem.ActorSystem.layer)))

  it.effect("the layer's failure effect reports an exhausted budget", () =>
    Effect.gen(function*() {
      const system = yield* ActorSystem.ActorSystem
      const c = yield* system.spawn(counter({ left: 100 }))
      yield* c.tell({ _tag: "Crash" })
      const err = yield* driveClock(system.failure.pipe(Effect.flip))
      assert.strictEqual(err._tag, "RestartBudgetExhausted")
      const after = yield* c.ask({ _tag: "Get" }).pipe(Effect.flip)
      assert.strictEqual(after._tag, "ActorStopped")
    }).pipe(Effect.provide(ActorSystem.ActorSystem.layer)))
})

describe("actor crashes from inside the handler", () => {
  it.effect("an interruption raised inside a handler is a crash: restart and re-delivery", () =>
    Effect.gen(function*() {
      let first = true
      const a = yield* ActorSystem.spawn({
        name: "joiner",
        initial: 0,
        handle: (n: number, x: number) =>
          Effect.gen(function*() {
            if (first) {
              first = false
              const d = yield* Deferred.make<number>()
              yield* Deferred.interrupt(d)
              yield* Deferred.await(d) // fails with an interruption that is not the actor's own
            }
            return [n + x, n + x] as const
          })
      })
      const got = yield* driveClock(a.ask(5))
      assert.strictEqual(got, 5)
      assert.strictEqual(yield* a.restarts, 1)
    }).pipe(ActorSystem.run))
})

describe("ask timeouts under back-pressure", () => {
  it.effect("an ask suspended on a full mailbox times out too, and leaves the mailbox usable", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const actor = yield* ActorSystem.spawn({
        name: "busy",
        initial: 0,
        capacity: 1,
        handle: (n: number, m: number) => Deferred.await(gate).pipe(Effect.as([n + m, n + m] as const))
      })
      yield* actor.tell(1) // taken, blocks on the gate
      yield* Effect.yieldNow
      yield* actor.tell(2) // fills the mailbox
      const asking = yield* Effect.forkChild(actor.ask(3, { timeout: "1 second" }))
      yield* TestClock.adjust("1 second")
      const err = yield* Fiber.join(asking).pipe(Effect.flip)
      assert.strictEqual(err._tag, "AskTimeout")
      yield* Deferred.succeed(gate, undefined)
      // the timed-out ask never entered the mailbox: 1 + 2 + 10
      assert.strictEqual(yield* actor.ask(10), 13)
    }).pipe(ActorSystem.run))
})
