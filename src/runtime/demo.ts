/**
 * A small but real actor pipeline, used by `npm start` until the training loop exists and by the
 * determinism tests: a producer fans each step's work items out to N worker actors, the workers
 * process them and send results to a collector, which merges them canonically and journals a state
 * hash per step.
 *
 * Guarantees: the final state hash and the journal depend only on (seed, steps, itemsPerStep), never
 * on the worker count, on delivery delays, or on transient worker crashes. That holds because:
 * - work items come from Rng streams forked by (seed, step, item id), not from an ordering;
 * - the collector merges the results of a step only once all have arrived, sorted by item id
 *   (src/core/Order.ts), never in arrival order;
 * - only the producer and the collector journal (single writers, inputs in a fixed order); workers,
 *   whose number varies, do not.
 */
import { Deferred, Duration, Effect, Schema } from "effect"
import { hashValue } from "../core/Hash.ts"
import { Rng } from "../core/Rng.ts"
import type { ActorRef } from "./Actor.ts"
import * as ActorSystem from "./ActorSystem.ts"
import * as Merge from "./Merge.ts"
import type { RestartBudgetExhausted } from "./Errors.ts"
import { type Journal, journalHash, makeRecorder, type Recorder } from "./Journal.ts"

const Int = Schema.Int
/** Worker inbox: one item of work. */
export const Work = Schema.TaggedStruct("Work", { step: Int, id: Int, payload: Schema.Array(Int) })
export type Work = typeof Work.Type
/** Collector inbox: one worker's result. */
export const Result = Schema.TaggedStruct("Result", { step: Int, id: Int, digest: Schema.String, score: Int })
export type Result = typeof Result.Type
/** Producer inbox. */
export const ProducerMsg = Schema.Union([
  Schema.TaggedStruct("Start", {}),
  Schema.TaggedStruct("StepDone", { step: Int, stateHash: Schema.String })
])
export type ProducerMsg = typeof ProducerMsg.Type

export interface DemoOptions {
  readonly seed: number
  readonly workers: number
  readonly steps?: number
  readonly itemsPerStep?: number
  /** Journal into this recorder (for replay); a fresh one otherwise. */
  readonly recorder?: Recorder
  /** Delay before a worker's result is delivered (a forked sleep on the Clock): simulated latency. */
  readonly deliveryDelay?: (work: Work) => Duration.Input
  /** Inject a defect the first time a worker handles these items (a transient crash). */
  readonly crashOnce?: ReadonlyArray<{ readonly step: number; readonly id: number }>
  /** Inject a defect every time (a poison message): exhausts the restart budget. */
  readonly crashAlways?: { readonly step: number; readonly id: number }
}

export interface DemoResult {
  readonly seed: number
  readonly workers: number
  readonly steps: number
  readonly itemsPerStep: number
  /** Hash of the collector's final state. */
  readonly finalHash: string
  readonly journal: Journal
  readonly journalHash: string
  readonly restarts: number
}

/** The work item `id` of `step`: a payload from its own Rng stream. */
export const makeWork = (seed: number, step: number, id: number): Work => {
  const rng = Rng.root(seed).fork("demo/work", step, id)
  const payload = Array.from({ length: 32 }, () => rng.int(0, 9999))
  return { _tag: "Work", step, id, payload }
}

/** The worker's computation: sort, fold a checksum, hash. Deterministic in the item alone. */
export const processWork = (work: Work): Result => {
  const sorted = [...work.payload].sort((a, b) => a - b)
  let score = 0
  for (let i = 0; i < sorted.length; i++) score = (score * 31 + sorted[i]! * (i + 1)) % 1_000_003
  return { _tag: "Result", step: work.step, id: work.id, digest: hashValue(sorted), score }
}

interface CollectorState {
  /** Hash chain over the canonically merged steps so far. */
  readonly acc: string
  readonly total: number
  /** Results of steps not yet complete, by step; merged only once complete. */
  readonly buffered: Merge.Batches<Result>
}

/** The options given to `runDemo` are unusable; `problem` says which and why. */
export class InvalidDemoOptions extends Schema.TaggedError<InvalidDemoOptions>()("InvalidDemoOptions", {
  problem: Schema.String
}) {
  override get message(): string {
    return `runDemo: ${this.problem}`
  }
}

const checkOptions = (o: DemoOptions): Effect.Effect<{ steps: number; itemsPerStep: number }, InvalidDemoOptions> => {
  const steps = o.steps ?? 8
  const itemsPerStep = o.itemsPerStep ?? 32
  if (!Number.isSafeInteger(o.seed)) {
    return Effect.fail(new InvalidDemoOptions({ problem: `seed must be a safe integer, got ${o.seed}` }))
  }
  for (const [k, v] of [["workers", o.workers], ["steps", steps], ["itemsPerStep", itemsPerStep]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      return Effect.fail(new InvalidDemoOptions({ problem: `${k} must be a positive integer, got ${v}` }))
    }
  }
  return Effect.succeed({ steps, itemsPerStep })
}

/**
 * Runs the pipeline in its own actor system. Fails with `RestartBudgetExhausted` if a worker keeps
 * dying, and with `InvalidDemoOptions` on bad options.
 */
export const runDemo = (options: DemoOptions): Effect.Effect<DemoResult, RestartBudgetExhausted | InvalidDemoOptions> =>
  Effect.gen(function*() {
    const { steps, itemsPerStep } = yield* checkOptions(options)
    const recorder = options.recorder ?? (yield* makeRecorder)
    const crashed = new Set<string>() // the environment's memory of injected faults, not actor state
    const finished = yield* Deferred.make<string>()
    const mergeSpec: Merge.MergeSpec<Result> = {
      groupOf: (r) => r.step,
      idOf: (r) => [r.id],
      expected: () => itemsPerStep
    }

    const program = Effect.gen(function*() {
      let producer: ActorRef<ProducerMsg> | undefined
      const collector = yield* ActorSystem.spawn({
        name: "collector",
        initial: { acc: hashValue(["demo", options.seed]), total: 0, buffered: Merge.emptyBatches() } as CollectorState,
        inbox: Result,
        handle: (s: CollectorState, r: Result) =>
          Effect.gen(function*() {
            // canonical merge: a step is acted on once complete, by item id, whatever the arrival order
            const { batches: buffered, complete: merged } = Merge.add(s.buffered, mergeSpec, r)
            if (merged === undefined) return [{ ...s, buffered }, undefined] as const
            const acc = hashValue([s.acc, r.step, merged])
            const next: CollectorState = { acc, total: s.total + merged.reduce((t, x) => t + x.score, 0), buffered }
            yield* recorder.record({ step: r.step, kind: "message", actor: "collector", value: merged })
            const summary = { acc, total: next.total }
            yield* recorder.record({ step: r.step, kind: "state", actor: "collector", value: summary })
            yield* producer!.tell({ _tag: "StepDone", step: r.step, stateHash: acc })
            return [next, undefined] as const
          })
      })
      const workers = yield* Effect.forEach(Array.from({ length: options.workers }, (_, i) => i), (i) =>
        ActorSystem.spawn({
          name: `worker-${i}`,
          initial: 0,
          inbox: Work,
          handle: (handled: number, w: Work) =>
            Effect.gen(function*() {
              const key = `${w.step}/${w.id}`
              if (options.crashAlways?.step === w.step && options.crashAlways.id === w.id) {
                return yield* Effect.die(new Error(`injected poison item ${key}`))
              }
              if (options.crashOnce?.some((c) => c.step === w.step && c.id === w.id) && !crashed.has(key)) {
                crashed.add(key)
                return yield* Effect.die(new Error(`injected transient crash on item ${key}`))
              }
              const result = processWork(w)
              const delay = options.deliveryDelay?.(w)
              if (delay === undefined) yield* collector.tell(result)
              else yield* Effect.forkChild(Effect.sleep(delay).pipe(Effect.andThen(collector.tell(result))))
              return [handled + 1, undefined] as const
            })
        }))
      const emit = (step: number) =>
        Effect.gen(function*() {
          const items = Array.from({ length: itemsPerStep }, (_, id) => makeWork(options.seed, step, id))
          yield* recorder.record({ step, kind: "message", actor: "producer", value: items })
          // item id -> worker is fixed by id, so a worker's inbox order is the producer's order
          yield* Effect.forEach(items, (w) => workers[w.id % workers.length]!.tell(w), { discard: true })
        })
      producer = yield* ActorSystem.spawn({
        name: "producer",
        initial: 0,
        inbox: ProducerMsg,
        handle: (done: number, m: ProducerMsg) =>
          Effect.gen(function*() {
            if (m._tag === "Start") {
              yield* emit(0)
              return [done, undefined] as const
            }
            if (m.step + 1 < steps) yield* emit(m.step + 1)
            else yield* Deferred.succeed(finished, m.stateHash)
            return [done + 1, undefined] as const
          })
      })
      yield* producer.tell({ _tag: "Start" })
      const finalHash = yield* Deferred.await(finished)
      const restarts = yield* Effect.forEach(workers, (w) => w.restarts)
      return { finalHash, restarts: restarts.reduce((a, b) => a + b, 0) }
    })

    const { finalHash, restarts } = yield* ActorSystem.run(program).pipe(
      Effect.catchTags({
        DuplicateActor: (e) => Effect.die(e), // names above are distinct by construction
        ActorStopped: (e) => Effect.die(e) // only if the system failed, which `run` reports instead
      })
    )
    const journal = yield* recorder.journal
    return {
      seed: options.seed,
      workers: options.workers,
      steps,
      itemsPerStep,
      finalHash,
      journal,
      journalHash: journalHash(journal),
      restarts
    }
  })
