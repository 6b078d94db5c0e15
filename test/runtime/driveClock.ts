/**
 * Test helper: runs an effect under the TestClock by forking it and advancing the clock in fixed ticks
 * until it completes. Bounded: fails after `maxTicks` ticks instead of hanging.
 */
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"

export const driveClock = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  options: { readonly tickMillis?: number; readonly maxTicks?: number } = {}
): Effect.Effect<A, E, R> =>
  Effect.gen(function*() {
    const tick = options.tickMillis ?? 5
    const maxTicks = options.maxTicks ?? 100_000
    const fiber = yield* Effect.forkChild(effect)
    for (let i = 0; i < maxTicks && fiber.pollUnsafe() === undefined; i++) {
      yield* TestClock.adjust(tick)
    }
    if (fiber.pollUnsafe() === undefined) {
      yield* Fiber.interrupt(fiber)
      return yield* Effect.die(new Error(`driveClock: still running after ${maxTicks} ticks of ${tick} ms`))
    }
    return yield* Fiber.join(fiber)
  })
