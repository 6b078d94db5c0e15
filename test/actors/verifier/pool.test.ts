import { describe, expect, it } from "@effect/vitest"
import { fc } from "@fast-check/vitest"
import { Effect, Exit, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { makePool, type PoolOptions } from "../../../actors/verifier/pool.ts"
import type { FaultPlan } from "../../../actors/verifier/faults.ts"
import type { VerifyRequest, VerifyResult } from "../../../actors/verifier/protocol.ts"
import { spawnVerifier } from "../../../actors/verifier/Verifier.ts"
import { Rng } from "../../../src/core/Rng.ts"
import { makeDomain, type DomainSpec } from "../../../src/domains/index.ts"
import { VOCAB_SIZE } from "../../../src/domains/vocab.ts"
import * as ActorSystem from "../../../src/runtime/ActorSystem.ts"

const codeSpec: DomainSpec = { name: "code", seed: 21, config: { clusters: 5, trainPerCluster: 8, heldoutPerCluster: 2 } }
const sciSpec: DomainSpec = { name: "science", seed: 21, config: { families: 8, trainPerFamily: 6, heldoutPerFamily: 2 } }

/** A batch with reference solutions, truncated ones and random tokens, ids given in scrambled order. */
const batchFor = (spec: DomainSpec, n: number): Array<VerifyRequest> => {
  const d = makeDomain(spec)
  const problems = [...d.problems("train"), ...d.problems("heldout")]
  const rng = Rng.root("batch").fork(spec.name)
  const out: Array<VerifyRequest> = []
  for (let i = 0; i < n; i++) {
    const p = problems[i % problems.length]!
    const sol = d.solution(p as never)
    const kind = i % 3
    const response = kind === 0 ? sol : kind === 1 ? sol.slice(0, -2) : Array.from({ length: rng.int(0, 14) }, () => rng.below(VOCAB_SIZE))
    out.push({ rolloutId: `s${String((i * 37) % n).padStart(3, "0")}`, problemId: p.id, protocol: i % 2 ? "train" : "eval", response })
  }
  return out
}

const runPool = (options: PoolOptions, batches: ReadonlyArray<ReadonlyArray<VerifyRequest>>) =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const pool = yield* makePool(options)
    const results: Array<ReadonlyArray<VerifyResult>> = []
    for (const b of batches) results.push(yield* pool.verify(b))
    return { results, stats: yield* pool.stats }
  })))

const codeBatch = batchFor(codeSpec, 60)
const sciBatch = batchFor(sciSpec, 40)

const expectCanonical = (requests: ReadonlyArray<VerifyRequest>, results: ReadonlyArray<VerifyResult>) => {
  expect(results.map((r) => r.rolloutId)).toEqual(requests.map((r) => r.rolloutId).sort())
  const byId = new Map(requests.map((r) => [r.rolloutId, r.problemId]))
  for (const r of results) expect(r.problemId).toBe(byId.get(r.rolloutId))
}

describe("verifier pool", () => {
  it("1 and 4 workers return exactly the direct verdicts, once each, in rollout-id order", async () => {
    for (const [spec, batch] of [[codeSpec, codeBatch], [sciSpec, sciBatch]] as const) {
      const direct = await runPool({ domain: spec, workers: 0 }, [batch])
      const one = await runPool({ domain: spec, workers: 1 }, [batch])
      const four = await runPool({ domain: spec, workers: 4 }, [batch])
      const unchunked = await runPool({ domain: spec, workers: 2, chunkMax: 1 }, [batch])
      expect(unchunked.results).toEqual(direct.results)
      expectCanonical(batch, direct.results[0]!)
      expect(one.results).toEqual(direct.results)
      expect(four.results).toEqual(direct.results)
      expect(direct.results[0]!.every((r) => r._tag === "Verified")).toBe(true)
      expect(direct.results[0]!.some((r) => r._tag === "Verified" && r.verdict.reward === 1)).toBe(true)
      expect(four.stats).toMatchObject({ checks: batch.length, verified: batch.length, failed: 0 })
    }
  })

  it("transient crashes, hangs, slow and flaky replies change nothing but the stats", async () => {
    const base = await runPool({ domain: codeSpec, workers: 0 }, [codeBatch])
    const faults: FaultPlan = { seed: 3, crash: 0.08, hang: 0.03, slow: 0.1, flaky: 0.1, slowMillis: 20 }
    const faulty = await runPool({ domain: codeSpec, workers: 2, timeout: "1500 millis", faults }, [codeBatch])
    expect(faulty.results).toEqual(base.results)
    expect(faulty.stats.crashes).toBeGreaterThan(0)
    expect(faulty.stats.timeouts).toBeGreaterThan(0)
    expect(faulty.stats.corrupt).toBeGreaterThan(0)
    expect(faulty.stats.workersStarted).toBeGreaterThan(2)
    expect(faulty.stats).toMatchObject({ verified: codeBatch.length, failed: 0 })
  })

  it("property: any transient fault schedule, worker count and chunk size, same results (few runs: workers are slow to start)", async () => {
    const base = await runPool({ domain: sciSpec, workers: 0 }, [sciBatch.slice(0, 24), sciBatch.slice(24)])
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 8 }), fc.nat(1000), fc.double({ min: 0, max: 0.15, noNaN: true }),
        fc.double({ min: 0, max: 0.2, noNaN: true }), fc.double({ min: 0, max: 0.2, noNaN: true }),
        async (workers, chunkMax, seed, crash, slow, flaky) => {
          const faults: FaultPlan = { seed, crash, hang: 0, slow, flaky, slowMillis: 5 }
          const r = await runPool({ domain: sciSpec, workers, chunkMax, faults }, [sciBatch.slice(0, 24), sciBatch.slice(24)])
          expect(r.results).toEqual(base.results)
          expect(r.stats.verified).toBe(sciBatch.length)
        }
      ),
      { numRuns: 3, seed: 42 }
    )
  })

  it("persistent crashes end in a typed VerifyFailed for every request, none lost", async () => {
    const batch = codeBatch.slice(0, 4)
    const r = await runPool({ domain: codeSpec, workers: 2, attemptsMax: 2, faults: { seed: 1, crash: 1, hang: 0, slow: 0, flaky: 0, slowMillis: 0, persistent: true } }, [batch])
    expectCanonical(batch, r.results[0]!)
    expect(r.results[0]!.every((x) => x._tag === "VerifyFailed" && x.reason === "crashed")).toBe(true)
    expect(r.stats).toMatchObject({ failed: 4, verified: 0 })
    expect(r.stats.crashes).toBeGreaterThanOrEqual(8) // 2 attempts per job alone, plus any lost chunk
  })

  it("persistent faults fail the same checks for 1 worker unchunked and 3 workers chunked", async () => {
    const faults: FaultPlan = { seed: 5, crash: 0.1, hang: 0, slow: 0, flaky: 0.3, slowMillis: 0, persistent: true }
    const batch = sciBatch.slice(0, 20)
    const a = await runPool({ domain: sciSpec, workers: 1, chunkMax: 1, attemptsMax: 2, faults }, [batch])
    const b = await runPool({ domain: sciSpec, workers: 3, chunkMax: 8, attemptsMax: 2, faults }, [batch])
    expect(b.results).toEqual(a.results)
    expectCanonical(batch, b.results[0]!)
    const failed = a.results[0]!.filter((r) => r._tag === "VerifyFailed").length
    expect(failed).toBeGreaterThan(0)
    expect(failed).toBeLessThan(batch.length)
  })

  it.effect("a hung check is cut off by the Clock's time-out (TestClock), not by wall time", () =>
    Effect.gen(function*() {
      const pool = yield* makePool({
        domain: codeSpec, workers: 1, attemptsMax: 2, timeout: "5 seconds",
        faults: { seed: 1, crash: 0, hang: 1, slow: 0, flaky: 0, slowMillis: 0, persistent: true }
      })
      const fiber = yield* Effect.forkChild(pool.verify(codeBatch.slice(0, 1)))
      const realSleep = (ms: number) => Effect.promise(() => new Promise((r) => setTimeout(r, ms)))
      const waitDispatched = (n: number) =>
        Effect.gen(function*() {
          while ((yield* pool.stats).dispatched < n) yield* realSleep(20)
          yield* realSleep(100)
        })
      yield* waitDispatched(1)
      yield* realSleep(300) // wall time passes; the check stays pending until the clock moves
      expect(fiber.pollUnsafe()).toBeUndefined()
      yield* TestClock.adjust("5 seconds")
      yield* waitDispatched(2)
      yield* TestClock.adjust("5 seconds")
      const results = yield* Fiber.join(fiber)
      expect(results).toEqual([{ _tag: "VerifyFailed", rolloutId: codeBatch[0]!.rolloutId, problemId: codeBatch[0]!.problemId, reason: "timeout" }])
      expect((yield* pool.stats).timeouts).toBe(2)
    }))

  it.effect("refuses batches with a repeated rollout id or an unknown problem", () =>
    Effect.gen(function*() {
      const pool = yield* makePool({ domain: codeSpec, workers: 0 })
      const r0 = codeBatch[0]!
      const dup = yield* Effect.exit(pool.verify([r0, { ...r0 }]))
      expect(Exit.isFailure(dup) && JSON.stringify(dup.cause).includes("duplicateRolloutId")).toBe(true)
      const unknown = yield* Effect.exit(pool.verify([{ ...r0, problemId: "code/c77/t000" }]))
      expect(Exit.isFailure(unknown) && JSON.stringify(unknown.cause).includes("unknownProblem")).toBe(true)
    }))

  it("as an actor: ask VerifyBatch returns the pool's results; bad messages are typed InvalidMessage", async () => {
    const direct = await runPool({ domain: codeSpec, workers: 0 }, [codeBatch])
    const out = await Effect.runPromise(ActorSystem.run(Effect.scoped(Effect.gen(function*() {
      const { ref } = yield* spawnVerifier({ domain: codeSpec, workers: 2 })
      const results = yield* ref.ask({ _tag: "VerifyBatch", requests: codeBatch })
      const bad = yield* Effect.exit(ref.askUnknown({ _tag: "VerifyBatch", requests: [{ rolloutId: "" }] }))
      return { results, bad }
    }))))
    expect(out.results).toEqual(direct.results[0])
    expect(Exit.isFailure(out.bad) && JSON.stringify(out.bad.cause).includes("InvalidMessage")).toBe(true)
  })
})
