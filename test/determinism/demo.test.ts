/**
 * The pipeline of src/runtime/demo.ts reaches the same final state hash and the same journal under
 * any worker count, any delivery delays (forked sleeps of random lengths on the TestClock) and
 * transient worker crashes.
 */
import { assert, describe, it } from "@effect/vitest"
import { fc, test as fcTest } from "@fast-check/vitest"
import { Cause, Effect, Exit, Option, References } from "effect"
import { TestClock } from "effect/testing"
import { type DemoOptions, runDemo } from "../../src/runtime/demo.ts"
import { driveClock } from "../runtime/driveClock.ts"

const steps = 4
const itemsPerStep = 12
const run = (options: Omit<DemoOptions, "steps" | "itemsPerStep">) =>
  Effect.runPromise(
    driveClock(runDemo({ ...options, steps, itemsPerStep }), { tickMillis: 3 }).pipe(
      Effect.provide(TestClock.layer()),
      // the injected crashes log a warning each; the assertions below check them instead
      Effect.provideService(References.MinimumLogLevel, "Error")
    )
  )

const baselines = new Map<number, Promise<{ finalHash: string; journalHash: string }>>()
const baseline = (seed: number) => {
  if (!baselines.has(seed)) baselines.set(seed, run({ seed, workers: 1 }))
  return baselines.get(seed)!
}

describe("demo pipeline determinism", () => {
  fcTest.prop(
    {
      seed: fc.constantFrom(1, 2, 3),
      workers: fc.integer({ min: 1, max: 6 }),
      delays: fc.array(fc.integer({ min: 0, max: 40 }), {
        minLength: steps * itemsPerStep,
        maxLength: steps * itemsPerStep
      }),
      crashes: fc.uniqueArray(fc.integer({ min: 0, max: steps * itemsPerStep - 1 }), { maxLength: 3 })
    },
    { numRuns: 50 }
  )("same final hash and journal under random delays, worker counts and transient crashes", async (p) => {
    const expected = await baseline(p.seed)
    const got = await run({
      seed: p.seed,
      workers: p.workers,
      deliveryDelay: (w) => p.delays[w.step * itemsPerStep + w.id]!,
      crashOnce: p.crashes.map((k) => ({ step: Math.floor(k / itemsPerStep), id: k % itemsPerStep }))
    })
    assert.strictEqual(got.finalHash, expected.finalHash)
    assert.strictEqual(got.journalHash, expected.journalHash)
    assert.strictEqual(got.restarts, p.crashes.length)
  })

  it("different seeds give different hashes (the hash is not trivially constant)", async () => {
    const [a, b] = await Promise.all([baseline(1), baseline(2)])
    assert.notStrictEqual(a.finalHash, b.finalHash)
  })

  it("a poison item exhausts the budget and fails with RestartBudgetExhausted", async () => {
    const exit = await Effect.runPromiseExit(
      driveClock(runDemo({ seed: 1, workers: 3, steps, itemsPerStep, crashAlways: { step: 1, id: 4 } })).pipe(
        Effect.provide(TestClock.layer())
      )
    )
    assert.isTrue(Exit.isFailure(exit))
    const err = Exit.isFailure(exit) ? Cause.findErrorOption(exit.cause) : Option.none()
    assert.isTrue(Option.isSome(err))
    if (Option.isSome(err) && err.value._tag === "RestartBudgetExhausted") {
      assert.deepStrictEqual(
        { tag: err.value._tag, actor: err.value.actor, restarts: err.value.restarts },
        { tag: "RestartBudgetExhausted", actor: "worker-1", restarts: 3 }
      )
      assert.match(err.value.lastReason, /poison item 1\/4/)
    }
  })

  it("bad options fail with InvalidDemoOptions naming the option", async () => {
    for (const [options, field] of [
      [{ seed: 1, workers: 0 }, "workers"],
      [{ seed: 1.5, workers: 2 }, "seed"],
      [{ seed: 1, workers: 2, steps: -1 }, "steps"]
    ] as const) {
      const exit = await Effect.runPromiseExit(runDemo(options))
      const err = Exit.isFailure(exit) ? Cause.findErrorOption(exit.cause) : Option.none()
      assert.isTrue(Option.isSome(err) && err.value._tag === "InvalidDemoOptions")
      if (Option.isSome(err)) assert.match(err.value.message, new RegExp(field))
    }
  })
})
