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
 * Shape: a bounded job queue, one fiber per worker slot taking jobs from it, one Deferred per job. A slot
 * sends the jobs it takes as one chunk (up to `chunkMax`, fewer when the queue is short so that slots
 * share the work); jobs a chunk did not answer validly are re-run one at a time from attempt 0, so each
 * job's attempts, faults and outcome are exactly those it would have had alone.
 * With `workers: 0` the pool verifies on the calling fiber (no threads, faults ignored): the baseline
 * for benchmarks and for callers that do not want threads.
 */
import { Deferred, Duration, Effect, Option, Queue, Ref, Result, type Scope } from "effect"
import { sortByKey } from "../../src/core/Order.ts"
import { makeDomain, verifySpecOf, verifyWith, type DomainSpec, type Verdict } from "../../src/domains/index.ts"
import { verdictDigest } from "./digest.ts"
import { drawFault, noFaults, validateFaultPlan, type FaultPlan } from "./faults.ts"
import { InvalidBatch, type CheckItem, type FailReason, type VerifyRequest, type VerifyResult } from "./protocol.ts"
import type { WorkerInit } from "./worker.ts"
import { decodeFromWorker, send, start, type Handle } from "./workerHandle.ts"

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
  /** Most checks sent to a worker in one message (default 64; 1 = one message per check). */
  readonly chunkMax?: number
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

interface Slot {
  handle: Handle | undefined
}
interface Job {
  readonly id: number
  readonly request: VerifyRequest
  readonly done: Deferred.Deferred<VerifyResult>
}
const zeroStats: PoolStats = {
  checks: 0, verified: 0, failed: 0, attempts: 0, dispatched: 0, crashes: 0, timeouts: 0, corrupt: 0, workersStarted: 0
}

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
    let nextChunkId = 0
    const chunkMax = options.chunkMax ?? 64
    if (!Number.isInteger(chunkMax) || chunkMax < 1) {
      return yield* Effect.die(new RangeError(`verifier pool: chunkMax must be a positive integer, got ${chunkMax}`))
    }

    const bootOrFail: Effect.Effect<Handle, string> = start(init).pipe(
      Effect.timeoutOrElse({ duration: bootTimeout, orElse: () => Effect.fail("did not start within the boot time-out") }),
      Effect.tap(() => bump("workersStarted"))
    )
    const boot: Effect.Effect<Option.Option<Handle>> = bootOrFail.pipe(
      Effect.map(Option.some),
      Effect.catch(() => Effect.succeed(Option.none<Handle>()))
    )

    const retire = (slot: Slot) =>
      Effect.sync(() => {
        if (slot.handle !== undefined) void slot.handle.worker.terminate()
        slot.handle = undefined
      })

    type Sent = { readonly verdicts: ReadonlyMap<number, Verdict>; readonly failure: FailReason | undefined }

    /** One message with `items` on this slot's worker: the verdicts that came back valid, and what went wrong. */
    const sendChunk = (slot: Slot, items: ReadonlyArray<CheckItem>): Effect.Effect<Sent> =>
      Effect.gen(function*() {
        yield* bump("attempts", items.length)
        if (slot.handle === undefined || slot.handle.dead) {
          yield* retire(slot)
          const h = yield* boot
          if (Option.isNone(h)) return { verdicts: new Map(), failure: "crashed" }
          slot.handle = h.value
        }
        const chunkId = nextChunkId++
        yield* bump("dispatched", items.length)
        const out = yield* Effect.timeoutOption(send(slot.handle, { _tag: "CheckChunk", chunkId, items, slowMillis: faults.slowMillis }), timeout)
        if (Option.isNone(out)) {
          yield* bump("timeouts")
          yield* retire(slot)
          return { verdicts: new Map(), failure: "timeout" }
        }
        if (out.value._tag === "crashed") {
          yield* bump("crashes")
          yield* retire(slot)
          return { verdicts: new Map(), failure: "crashed" }
        }
        const r = decodeFromWorker(out.value.msg)
        const verdicts = new Map<number, Verdict>()
        if (Result.isSuccess(r) && r.success._tag === "CheckedChunk" && r.success.chunkId === chunkId) {
          for (const it of r.success.items) {
            if (verdictDigest(it.verdict) === it.digest) verdicts.set(it.jobId, it.verdict)
          }
        }
        const lost = items.length - verdicts.size
        if (lost > 0) yield* bump("corrupt", lost)
        return { verdicts, failure: lost > 0 ? "corrupt" : undefined }
      })

    const item = (job: Job, attempt: number): CheckItem => ({
      jobId: job.id, request: job.request, fault: drawFault(faults, job.request.rolloutId, attempt, attemptsMax)
    })
    const verified = (job: Job, verdict: Verdict): VerifyResult =>
      ({ _tag: "Verified", rolloutId: job.request.rolloutId, problemId: job.request.problemId, verdict })

    /** A job on its own: attempts 0, 1, ... until a valid verdict or `attemptsMax`. */
    const runJob = (slot: Slot, job: Job) =>
      Effect.gen(function*() {
        let reason: FailReason = "crashed"
        for (let n = 0; n < attemptsMax; n++) {
          const sent = yield* sendChunk(slot, [item(job, n)])
          const v = sent.verdicts.get(job.id)
          if (v !== undefined) return verified(job, v)
          reason = sent.failure ?? "corrupt"
        }
        return { _tag: "VerifyFailed", rolloutId: job.request.rolloutId, problemId: job.request.problemId, reason } as const
      })

    const finish = (job: Job, r: VerifyResult) =>
      bump(r._tag === "Verified" ? "verified" : "failed").pipe(Effect.andThen(Deferred.succeed(job.done, r)))

    /** Several jobs as one chunk at attempt 0; the ones it did not answer validly run alone from attempt 0. */
    const runChunk = (slot: Slot, jobs: ReadonlyArray<Job>) =>
      Effect.gen(function*() {
        if (jobs.length === 1) return yield* finish(jobs[0]!, yield* runJob(slot, jobs[0]!))
        const sent = yield* sendChunk(slot, jobs.map((j) => item(j, 0)))
        for (const job of jobs) {
          const v = sent.verdicts.get(job.id)
          yield* finish(job, v !== undefined ? verified(job, v) : yield* runJob(slot, job))
        }
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
    // A slot takes its share of what is queued (at most chunkMax), so a short queue is spread over all slots.
    const takeShare = Queue.size(queue).pipe(
      Effect.flatMap((n) => Queue.takeBetween(queue, 1, Math.max(1, Math.min(chunkMax, Math.ceil(n / slots.length)))))
    )
    // A defect in a slot (a bug, not a fault) is handed to the waiting callers instead of leaving them hanging.
    const serve = (slot: Slot, jobs: ReadonlyArray<Job>) =>
      runChunk(slot, jobs).pipe(
        Effect.catchCause((cause) => Effect.forEach(jobs, (j) => Deferred.failCause(j.done, cause), { discard: true }))
      )
    for (const slot of slots) {
      yield* Effect.forkScoped(Effect.forever(takeShare.pipe(Effect.flatMap((jobs) => serve(slot, jobs)))))
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
        const jobs: Array<Job> = ordered.map((request) => ({ id: nextJobId++, request, done: Deferred.makeUnsafe<VerifyResult>() }))
        yield* Effect.forEach(jobs, (j) => Queue.offer(queue, j), { discard: true })
        return yield* Effect.forEach(jobs, (j) => Deferred.await(j.done))
      })

    return { workers: options.workers, verify, stats: Ref.get(stats) }
  })
