/**
 * The verifier pool: N worker threads running the domains' pure verifiers in parallel with the main
 * thread, under supervision.
 *
 * Guarantees:
 * - Every request gets exactly one result, `Verified` or a typed `VerifyFailed`; results come back in
 *   canonical rollout-id order, never in arrival order. A batch with a repeated rollout id or an unknown
 *   problem id is refused as a whole (`InvalidBatch`), so nothing is counted twice or silently dropped.
 * - A worker that crashes is replaced; a check that does not answer within `timeout` (Effect's Clock, so
 *   TestClock in tests) has its worker terminated and replaced; a reply that fails schema validation or
 *   its digest is discarded. Each of these retries the check, up to `attemptsMax` attempts in all.
 * - Results depend only on the requests: a verdict is a pure function of (problem, response, protocol),
 *   faults are a pure function of (plan, rollout id, attempt), and each job's attempts run in order on one
 *   slot. So 1 or N workers, and runs with or without transient faults, give identical results.
 *
 * Shape: a bounded job queue, one fiber per worker slot taking jobs from it, one Deferred per job.
 * With `workers: 0` the pool verifies on the calling fiber (no threads, faults ignored): the baseline
 * for benchmarks and for callers that do not want threads.
 */
import { Worker } from "node:worker_threads"
import { Deferred, Duration, Effect, Option, Queue, Ref, Result, Schema, type Scope } from "effect"
import { sortByKey } from "../../src/core/Order.ts"
import { makeDomain, verifySpecOf, verifyWith, type DomainSpec } from "../../src/domains/index.ts"
import { verdictDigest } from "./digest.ts"
import { drawFault, noFaults, validateFaultPlan, type FaultPlan } from "./faults.ts"
import {
  FromWorker, InvalidBatch, type Check, type FailReason, type VerifyRequest, type VerifyResult
} from "./protocol.ts"
import type { WorkerInit } from "./worker.ts"

export interface PoolOptions {
  readonly domain: DomainSpec
  /** Worker threads; 0 verifies on the calling fiber. */
  readonly workers: number
  /** Per attempt, on Effect's Clock (default 10 seconds). */
  readonly timeout?: Duration.Input
  /** Attempts per check before it is reported as VerifyFailed (default 3). */
  readonly attemptsMax?: number
  /** How long a new worker may take to load (default 60 seconds; counts as a failed attempt). */
  readonly bootTimeout?: Duration.Input
  readonly faults?: FaultPlan
  /** Capacity of the job queue (default 1024); a larger batch waits for room (back-pressure). */
  readonly queueCapacity?: number
}

/** Counters of what supervision did; they vary with faults and timing, results never do. */
export interface PoolStats {
  readonly checks: number
  readonly verified: number
  readonly failed: number
  readonly attempts: number
  /** Checks posted to a worker (attempts minus those lost to a failed worker start). */
  readonly dispatched: number
  readonly crashes: number
  readonly timeouts: number
  readonly corrupt: number
  readonly workersStarted: number
}

export interface VerifierPool {
  readonly workers: number
  /** One result per request, in rollout-id order. */
  readonly verify: (requests: ReadonlyArray<VerifyRequest>) => Effect.Effect<ReadonlyArray<VerifyResult>, InvalidBatch>
  readonly stats: Effect.Effect<PoolStats>
}

interface Handle {
  readonly worker: Worker
  dead: boolean
}
interface Slot {
  handle: Handle | undefined
}
interface Job {
  readonly request: VerifyRequest
  readonly done: Deferred.Deferred<VerifyResult>
}
type Outcome = { readonly _tag: "reply"; readonly msg: unknown } | { readonly _tag: "crashed" }

const WORKER_URL = new URL("./worker.ts", import.meta.url)
const zeroStats: PoolStats = {
  checks: 0, verified: 0, failed: 0, attempts: 0, dispatched: 0, crashes: 0, timeouts: 0, corrupt: 0, workersStarted: 0
}
const decodeFromWorker = Schema.decodeUnknownResult(FromWorker)

/** Starts a pool in the current scope; closing the scope stops its fibers and terminates its workers. */
export const makePool = (options: PoolOptions): Effect.Effect<VerifierPool, never, Scope.Scope> =>
  Effect.gen(function*() {
    if (!Number.isInteger(options.workers) || options.workers < 0 || options.workers > 64) {
      return yield* Effect.die(new RangeError(`verifier pool: workers must be an integer in [0, 64], got ${options.workers}`))
    }
    const attemptsMax = options.attemptsMax ?? 3
    if (!Number.isInteger(attemptsMax) || attemptsMax < 1) {
      return yield* Effect.die(new RangeError(`verifier pool: attemptsMax must be a positive integer, got ${attemptsMax}`))
    }
    const faults = validateFaultPlan(options.faults ?? noFaults)
    const timeout = Duration.fromInputUnsafe(options.timeout ?? "10 seconds")
    const bootTimeout = Duration.fromInputUnsafe(options.bootTimeout ?? "60 seconds")
    const domain = makeDomain(options.domain)
    const spec = verifySpecOf(domain)
    const problems = [...domain.problems("train"), ...domain.problems("heldout")]
    const byId = new Map<string, (typeof problems)[number]>(problems.map((p) => [p.id, p]))
    const init: WorkerInit = { spec, problems, fingerprint: domain.fingerprint }
    const stats = yield* Ref.make(zeroStats)
    const bump = (k: keyof PoolStats, n = 1) => Ref.update(stats, (s) => ({ ...s, [k]: s[k] + n }))
    const slots: Array<Slot> = Array.from({ length: options.workers }, () => ({ handle: undefined }))
    let nextJobId = 0

    // Resolves when the worker has loaded (Ready with our fingerprint); fails with the reason if it dies first.
    const bootOrFail: Effect.Effect<Handle, string> = Effect.callback<Handle, string>((resume) => {
      const worker = new Worker(WORKER_URL, { workerData: init })
      const handle: Handle = { worker, dead: false }
      let lastError = "exited before it was ready"
      // Permanent listeners: an 'error' event without a listener would take the whole process down.
      worker.on("error", (e: unknown) => {
        handle.dead = true
        lastError = e instanceof Error ? e.message : String(e)
      })
      worker.on("exit", () => void (handle.dead = true))
      const onMessage = (m: unknown) => {
        const r = decodeFromWorker(m)
        if (Result.isSuccess(r) && r.success._tag === "Ready" && r.success.fingerprint === init.fingerprint) {
          off()
          resume(Effect.succeed(handle))
        }
      }
      const onExit = () => {
        off()
        resume(Effect.fail(lastError))
      }
      const off = () => {
        worker.off("message", onMessage)
        worker.off("exit", onExit)
      }
      worker.on("message", onMessage)
      worker.on("exit", onExit)
      return Effect.sync(() => {
        off()
        void worker.terminate()
      })
    }).pipe(
      Effect.timeoutOrElse({ duration: bootTimeout, orElse: () => Effect.fail("did not start within the boot time-out") }),
      Effect.tap(() => bump("workersStarted"))
    )
    const boot: Effect.Effect<Option.Option<Handle>> = bootOrFail.pipe(
      Effect.map(Option.some),
      Effect.catch(() => Effect.succeed(Option.none<Handle>()))
    )

    const ask = (handle: Handle, check: Check): Effect.Effect<Outcome> =>
      Effect.callback<Outcome>((resume) => {
        if (handle.dead) return resume(Effect.succeed({ _tag: "crashed" }))
        const onMessage = (msg: unknown) => {
          off()
          resume(Effect.succeed({ _tag: "reply", msg }))
        }
        const onExit = () => {
          off()
          resume(Effect.succeed({ _tag: "crashed" }))
        }
        const off = () => {
          handle.worker.off("message", onMessage)
          handle.worker.off("exit", onExit)
        }
        handle.worker.on("message", onMessage)
        handle.worker.on("exit", onExit)
        handle.worker.postMessage(check)
        return Effect.sync(off)
      })

    const retire = (slot: Slot) =>
      Effect.sync(() => {
        if (slot.handle !== undefined) void slot.handle.worker.terminate()
        slot.handle = undefined
      })

    /** One attempt on this slot: a verdict, or why the attempt failed. */
    const attempt = (slot: Slot, request: VerifyRequest, n: number) =>
      Effect.gen(function*() {
        yield* bump("attempts")
        if (slot.handle === undefined || slot.handle.dead) {
          yield* retire(slot)
          const h = yield* boot
          if (Option.isNone(h)) return { ok: false, reason: "crashed" } as const
          slot.handle = h.value
        }
        const check: Check = {
          _tag: "Check", jobId: nextJobId++, request, fault: drawFault(faults, request.rolloutId, n, attemptsMax),
          slowMillis: faults.slowMillis
        }
        yield* bump("dispatched")
        const out = yield* Effect.timeoutOption(ask(slot.handle, check), timeout)
        if (Option.isNone(out)) {
          yield* bump("timeouts")
          yield* retire(slot)
          return { ok: false, reason: "timeout" } as const
        }
        if (out.value._tag === "crashed") {
          yield* bump("crashes")
          yield* retire(slot)
          return { ok: false, reason: "crashed" } as const
        }
        const r = decodeFromWorker(out.value.msg)
        if (Result.isSuccess(r) && r.success._tag === "Checked" && r.success.jobId === check.jobId &&
          verdictDigest(r.success.verdict) === r.success.digest) {
          return { ok: true, verdict: r.success.verdict } as const
        }
        yield* bump("corrupt")
        return { ok: false, reason: "corrupt" } as const
      })

    const runJob = (slot: Slot, job: Job) =>
      Effect.gen(function*() {
        const { rolloutId, problemId } = job.request
        let reason: FailReason = "crashed"
        for (let n = 0; n < attemptsMax; n++) {
          const a = yield* attempt(slot, job.request, n)
          if (a.ok) {
            yield* bump("verified")
            return { _tag: "Verified", rolloutId, problemId, verdict: a.verdict } as const
          }
          reason = a.reason
        }
        yield* bump("failed")
        return { _tag: "VerifyFailed", rolloutId, problemId, reason } as const
      })

    const queue = yield* Queue.bounded<Job>(options.queueCapacity ?? 1024)
    yield* Effect.addFinalizer(() =>
      Effect.promise(() => Promise.all(slots.map((s) => s.handle?.worker.terminate()))).pipe(Effect.asVoid)
    )
    // Warm start: load every worker now, so the first batch does not pay for it. A worker that cannot
    // start at all here is an environment problem (e.g. a Node without .ts support), not a fault: die loudly.
    yield* Effect.forEach(slots, (slot) =>
      bootOrFail.pipe(
        Effect.map((h) => void (slot.handle = h)),
        Effect.catch((reason) =>
          Effect.die(new Error(`verifier pool: a worker thread failed to start (${reason}); Node >= 22.18 runs .ts workers`))
        )
      ), { concurrency: "unbounded", discard: true })
    for (const slot of slots) {
      yield* Effect.forkScoped(Effect.forever(
        Queue.take(queue).pipe(Effect.flatMap((job) => runJob(slot, job).pipe(Effect.flatMap((r) => Deferred.succeed(job.done, r)))))
      ))
    }

    const validate = (requests: ReadonlyArray<VerifyRequest>): Effect.Effect<void, InvalidBatch> => {
      const seen = new Set<string>()
      for (const r of requests) {
        if (seen.has(r.rolloutId)) {
          return Effect.fail(new InvalidBatch({ reason: "duplicateRolloutId", rolloutId: r.rolloutId, problemId: r.problemId }))
        }
        seen.add(r.rolloutId)
        if (!byId.has(r.problemId)) {
          return Effect.fail(new InvalidBatch({ reason: "unknownProblem", rolloutId: r.rolloutId, problemId: r.problemId }))
        }
      }
      return Effect.void
    }

    const direct = (r: VerifyRequest): VerifyResult => ({
      _tag: "Verified", rolloutId: r.rolloutId, problemId: r.problemId,
      verdict: verifyWith(spec, byId.get(r.problemId)!, r.response, r.protocol)
    })

    const verify = (requests: ReadonlyArray<VerifyRequest>) =>
      Effect.gen(function*() {
        yield* validate(requests)
        const ordered = sortByKey(requests, (r) => [r.rolloutId])
        yield* bump("checks", ordered.length)
        if (options.workers === 0) {
          const results = ordered.map(direct)
          yield* bump("verified", results.length)
          return results
        }
        const jobs: Array<Job> = ordered.map((request) => ({ request, done: Deferred.makeUnsafe<VerifyResult>() }))
        yield* Effect.forEach(jobs, (j) => Queue.offer(queue, j), { discard: true })
        return yield* Effect.forEach(jobs, (j) => Deferred.await(j.done))
      })

    return { workers: options.workers, verify, stats: Ref.get(stats) }
  })
