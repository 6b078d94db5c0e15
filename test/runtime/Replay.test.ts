import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import { hashValue } from "../../src/core/Hash.ts"
import * as ActorSystem from "../../src/runtime/ActorSystem.ts"
import { runDemo } from "../../src/runtime/demo.ts"
import { makeRecorder, type Recorder } from "../../src/runtime/Journal.ts"
import { replay, replayExact } from "../../src/runtime/Replay.ts"
import { driveClock } from "./driveClock.ts"

/** A toy run: a running sum journaled per step; `alterAt` perturbs one step (a deliberate bug). */
const toyRun = (recorder: Recorder, steps: number, alterAt?: number) =>
  Effect.gen(function*() {
    let sum = 0
    for (let step = 0; step < steps; step++) {
      const msg = { step, x: step * 7 + 1 }
      sum += msg.x + (step === alterAt ? 1 : 0)
      yield* recorder.record({ step, kind: "message", actor: "toy", value: msg })
      yield* recorder.record({ step, kind: "state", actor: "toy", value: { sum } })
    }
    return sum
  })

const recorded = (steps: number) =>
  Effect.gen(function*() {
    const recorder = yield* makeRecorder
    yield* toyRun(recorder, steps)
    return yield* recorder.journal
  })

describe("replay", () => {
  it.effect("an identical re-run replays as identical", () =>
    Effect.gen(function*() {
      const journal = yield* recorded(10)
      const report = yield* replay(journal, (r) => toyRun(r, 10))
      assert.strictEqual(report._tag, "Identical")
      if (report._tag === "Identical") assert.strictEqual(report.compared, 20)
    }))

  it.effect("reports the first diverging step with expected and got hashes", () =>
    Effect.gen(function*() {
      const journal = yield* recorded(10)
      const report = yield* replay(journal, (r) => toyRun(r, 10, 6))
      assert.strictEqual(report._tag, "Diverged")
      if (report._tag !== "Diverged") return
      const d = report.divergence
      assert.deepStrictEqual({ step: d.step, actor: d.actor, kind: d.kind, index: d.index }, {
        step: 6,
        actor: "toy",
        kind: "state",
        index: 13
      })
      const expectedSum = Array.from({ length: 7 }, (_, s) => s * 7 + 1).reduce((a, b) => a + b, 0)
      assert.strictEqual(d.expected, hashValue({ sum: expectedSum }))
      assert.strictEqual(d.got, hashValue({ sum: expectedSum + 1 }))
      const err = yield* replayExact(journal, (r) => toyRun(r, 10, 6)).pipe(Effect.flip)
      assert.strictEqual(err._tag, "ReplayDiverged")
      assert.strictEqual(err.step, 6)
    }))

  it.effect("a shorter re-run diverges where its journal ends", () =>
    Effect.gen(function*() {
      const journal = yield* recorded(5)
      const report = yield* replay(journal, (r) => toyRun(r, 4))
      assert.strictEqual(report._tag, "Diverged")
      if (report._tag === "Diverged") {
        assert.strictEqual(report.divergence.step, 4)
        assert.strictEqual(report.divergence.got, "<missing>")
      }
    }))

  it.effect("the demo replays identically with other workers, delays and a transient crash", () =>
    Effect.gen(function*() {
      const first = yield* driveClock(runDemo({ seed: 11, workers: 2, steps: 3, itemsPerStep: 10 }))
      const report = yield* driveClock(
        replay(first.journal, (recorder) =>
          runDemo({
            seed: 11,
            workers: 5,
            steps: 3,
            itemsPerStep: 10,
            recorder,
            deliveryDelay: (w) => (w.id * 13) % 7,
            crashOnce: [{ step: 1, id: 2 }]
          }))
      )
      assert.strictEqual(report._tag, "Identical")
      assert.strictEqual(report.result.finalHash, first.finalHash)
      assert.strictEqual(report.result.restarts, 1)
      // and a different seed diverges at the producer's very first message
      const other = yield* driveClock(
        replay(first.journal, (recorder) => runDemo({ seed: 12, workers: 2, steps: 3, itemsPerStep: 10, recorder }))
      )
      assert.strictEqual(other._tag, "Diverged")
      if (other._tag === "Diverged") {
        assert.deepStrictEqual([other.divergence.step, other.divergence.index], [0, 0])
      }
    }).pipe(Effect.provide(TestClock.layer())))

  it.effect("an actor's own journal replays identically after a transient crash; restarts are recorded", () =>
    Effect.gen(function*() {
      const journaled = (recorder: Recorder, crashes: { left: number }) =>
        ActorSystem.run(Effect.gen(function*() {
          const acc = yield* ActorSystem.spawn({
            name: "acc",
            initial: { total: 0 },
            recorder,
            handle: (s: { total: number }, x: number) =>
              x === 3 && crashes.left-- > 0
                ? Effect.die(new Error("flaky"))
                : Effect.succeed([{ total: s.total + x }, s.total + x] as const)
          })
          for (let x = 0; x < 6; x++) yield* acc.tell(x)
          return yield* acc.ask(100)
        }))
      const clean = yield* makeRecorder
      assert.strictEqual(yield* driveClock(journaled(clean, { left: 0 })), 115)
      const journal = yield* clean.journal
      assert.deepStrictEqual(journal.entries.slice(0, 2).map((e) => [e.step, e.kind]), [[0, "message"], [0, "state"]])
      const report = yield* driveClock(replay(journal, (r) => journaled(r, { left: 2 })))
      assert.strictEqual(report._tag, "Identical")
      const restarts = report.journal.entries.filter((e) => e.kind === "restart")
      assert.deepStrictEqual(restarts.map((e) => e.step), [3, 3])
      // compared with restarts included, the crash shows up as the divergence
      const strict = yield* driveClock(
        replay(journal, (r) => journaled(r, { left: 1 }), { kinds: ["message", "state", "restart"] })
      )
      assert.strictEqual(strict._tag, "Diverged")
      if (strict._tag === "Diverged") assert.strictEqual(strict.divergence.step, 3)
    }))

  it.effect("replayExact stops the re-run at the first mismatch", () =>
    Effect.gen(function*() {
      const journal = yield* recorded(1000)
      let stepsRun = 0
      const err = yield* replayExact(journal, (r) => {
        const wrapped: Recorder = {
          ...r,
          record: (input) => {
            if (input.kind === "message") stepsRun++
            return r.record(input)
          }
        }
        return toyRun(wrapped, 1000, 6)
      }).pipe(Effect.flip)
      assert.strictEqual(err._tag, "ReplayDiverged")
      assert.deepStrictEqual([err.step, err.kind, err.index], [6, "state", 13])
      assert.isBelow(stepsRun, 10, "the re-run must stop soon after step 6, not run all 1000 steps")
      // and an identical re-run passes through with its result
      assert.strictEqual(yield* replayExact(journal, (r) => toyRun(r, 1000)), yield* toyRun(yield* makeRecorder, 1000))
      // a re-run that records less is caught at its end
      const short = yield* replayExact(journal, (r) => toyRun(r, 999)).pipe(Effect.flip)
      assert.deepStrictEqual([short.step, short.got], [999, "<missing>"])
    }))

  it.effect("an actor journals a view of an unencodable state; without a view it fails loudly", () =>
    Effect.gen(function*() {
      interface Model {
        readonly version: number
        readonly forward: (x: number) => number // a handle the codec cannot encode
      }
      const model = (version: number): Model => ({ version, forward: (x) => x * version })
      const run = (recorder: Recorder, withView: boolean) =>
        ActorSystem.run(Effect.gen(function*() {
          const policy = yield* ActorSystem.spawn({
            name: "policy",
            initial: model(1),
            recorder,
            supervision: { maxRestarts: 1, backoff: "1 millis" },
            ...(withView ? { journalView: { state: (m: Model) => ({ version: m.version }) } } : {}),
            handle: (m: Model, x: number) => Effect.succeed([model(m.version + 1), m.forward(x)] as const)
          })
          return yield* policy.ask(3)
        }))
      const recorder = yield* makeRecorder
      assert.strictEqual(yield* driveClock(run(recorder, true)), 3)
      const journal = yield* recorder.journal
      assert.deepStrictEqual(journal.entries.map((e) => e.kind), ["message", "state"])
      assert.strictEqual(journal.entries[1]!.digest, hashValue({ version: 2 }))
      const bare = yield* makeRecorder
      const err = yield* driveClock(run(bare, false)).pipe(Effect.flip)
      assert.strictEqual(err._tag, "RestartBudgetExhausted")
      if (err._tag === "RestartBudgetExhausted") assert.match(err.lastReason, /cannot encode a function/)
      // nothing but restart entries was journaled: never half a step
      assert.deepStrictEqual((yield* bare.journal).entries.map((e) => e.kind), ["restart"])
    }))
})
