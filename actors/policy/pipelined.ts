/**
 * The policy's pipelined execution (issue #17): its row-wise work (sampling, teacher scoring, entropy)
 * and the update's micro-batches shared between the learner's thread and the rollout workers as each
 * becomes free (shareWork.ts), and the next step's rollouts queued as background work that idle workers,
 * and this thread while it waits, take (`prefetch`, background.ts).
 *
 * Why the bits never change: a row's result depends only on its weights and its own stream, never on
 * the batch it is in or the thread computing it (src/numeric/sampling); a prefetch is keyed by its
 * requests and the id of the weights it used, and is taken only by a `Sample` that asks exactly that (the
 * policy itself resolves which version a lag means). Anything else, or a worker that failed, is computed
 * here as in the inline execution. Which policy version a rollout uses is fixed by the declared schedule;
 * threads only decide when it is ready.
 */
import { Effect, Option } from "effect"
import type { RunConfig } from "../../src/config/RunConfig.ts"
import { hashValue } from "../../src/core/Hash.ts"
import { Rng } from "../../src/core/Rng.ts"
import type { SampleResult } from "../../src/numeric/index.ts"
import type { Rehearsal, SampleRequest, UpdateRow, UpdateStats } from "../../src/protocol/policy.ts"
import { TraceSink } from "../../src/runtime/Trace.ts"
import { interpolateTeacher, meanEntropy, type PolicyModel, type WeightSource } from "./PolicyModel.ts"
import { rowRanges } from "./batch.ts"
import type { LossKind } from "./loss.ts"
import { RolloutPool } from "./rolloutPool.ts"
import { shareWork } from "./shareWork.ts"
import { type BackgroundTask, BackgroundQueue } from "./background.ts"
import { setImmediate as yieldToEventLoop } from "node:timers/promises"

/** One batch of next-step rollouts to sample ahead, from the student of `version` (if the policy still has it). */
export interface PrefetchBatch {
  readonly requests: ReadonlyArray<SampleRequest>
  readonly maxNewTokens: number
  readonly version: number
  readonly greedy: boolean
}

export class PipelinedPolicy {
  /** prefetched rollouts by key (requests + weight-set id); rejected when a chunk failed (sampled again) */
  private readonly prefetched = new Map<string, Promise<Array<SampleResult>>>()
  /** the prefetch's chunks no thread has taken yet */
  private readonly background = new BackgroundQueue()
  /** sample requests answered by a prefetch (reported by the bench and tests; never part of a result) */
  prefetchTaken = 0

  readonly model: PolicyModel
  private readonly pool: RolloutPool
  private readonly cfg: RunConfig

  constructor(model: PolicyModel, pool: RolloutPool, cfg: RunConfig) {
    this.model = model
    this.pool = pool
    this.cfg = cfg
  }

  /** Starts the workers of a run's pipelined execution (their jobs on the run's trace, if any); closed with the scope. */
  static make(cfg: RunConfig, model: PolicyModel) {
    return Effect.gen(function*() {
      const pool = yield* Effect.acquireRelease(
        Effect.promise(() =>
          RolloutPool.start(cfg.async.rolloutWorkers ?? 1, {
            cfg, model: model.model, backend: cfg.backend, delayMaxMs: cfg.async.injectDelayMs ?? 0, delaySeed: cfg.seed
          }, cfg.async.staleness + 4)
        ),
        (pool) => Effect.promise(() => pool.close())
      )
      const sink = yield* Effect.serviceOption(TraceSink)
      if (Option.isSome(sink)) pool.trace = yield* Effect.clockWith((clock) => Effect.succeed({ nowUs: () => Number(clock.currentTimeNanosUnsafe() / 1000n), record: sink.value.record }))
      return new PipelinedPolicy(model, pool, cfg)
    })
  }

  async sample(requests: ReadonlyArray<SampleRequest>, maxNewTokens: number, lag: number, greedy: boolean): Promise<{ results: Array<SampleResult>; version: number }> {
    const source = this.model.samplingSource(lag)
    const key = prefetchKey(requests, maxNewTokens, greedy, source.id)
    const ahead = this.prefetched.get(key)
    this.prefetched.delete(key)
    const early = ahead === undefined ? null : await this.finishPrefetch(ahead)
    if (early !== null) this.prefetchTaken++
    const results = early ?? await this.split(requests.length,
      (w, lo, hi) => this.pool.sample(w, source, this.cfg.seed, requests.slice(lo, hi), this.model.sampleOptions(maxNewTokens, greedy)),
      (lo, hi) => this.model.sampleFrom(source, requests.slice(lo, hi), this.model.sampleOptions(maxNewTokens, greedy)))
    return { results, version: source.version }
  }

  /**
   * Queues the next step's rollouts as background work (background.ts), in chunks of
   * PREFETCH_CHUNK_ROWS: idle workers start on them now, and any thread that would wait takes one.
   * Replaces what an earlier prefetch left unused. A version this policy no longer has, or does not have
   * yet, is skipped: that batch is sampled when it is asked for.
   */
  prefetch(batches: ReadonlyArray<PrefetchBatch>): void {
    this.prefetched.clear()
    const tasks: Array<BackgroundTask> = []
    for (const b of batches) {
      const source = this.model.sourceAtVersion(b.version)
      if (source === undefined || this.pool.alive().length === 0) continue
      const { done, chunks } = this.prefetchChunks(b)
      tasks.push(...chunks)
      this.prefetched.set(prefetchKey(b.requests, b.maxNewTokens, b.greedy, source.id), done)
    }
    this.background.replace(tasks)
    this.feedIdleWorkers()
  }

  /**
   * One prefetch batch as background chunks, and the promise of all their rows (rejected if a chunk
   * fails: the batch is then sampled again when asked for). Each chunk looks its weights up when it
   * runs: a chunk run after the update reads version `b.version` from the kept history, not the student
   * the update has just changed.
   */
  private prefetchChunks(b: PrefetchBatch): { done: Promise<Array<SampleResult>>; chunks: Array<BackgroundTask> } {
    const options = this.model.sampleOptions(b.maxNewTokens, b.greedy)
    const weights = (): WeightSource => {
      const source = this.model.sourceAtVersion(b.version)
      if (source === undefined) throw new Error(`prefetch: the policy no longer has version ${b.version}`)
      return source
    }
    const ranges = rowRanges(b.requests.length, Math.ceil(b.requests.length / PREFETCH_CHUNK_ROWS))
    const parts = new Array<Array<SampleResult>>(ranges.length)
    let left = ranges.length
    const chunks: Array<BackgroundTask> = []
    const done = new Promise<Array<SampleResult>>((resolve, reject) => {
      const finish = (i: number, r: Array<SampleResult>) => {
        parts[i] = r
        if (--left === 0) resolve(parts.flat())
      }
      for (const [i, [lo, hi]] of ranges.entries()) {
        const rows = b.requests.slice(lo, hi)
        chunks.push({
          local: () => {
            try {
              finish(i, this.model.sampleFrom(weights(), rows, options))
            } catch (e) {
              reject(e)
            }
          },
          remote: (w) => Promise.resolve().then(() => this.pool.sample(w, weights(), this.cfg.seed, rows, options)).then((r) => finish(i, r), (e) => {
            reject(e)
            throw e
          })
        })
      }
    })
    done.catch(() => undefined) // handled where the rollouts are asked for
    return { done, chunks }
  }

  /** A prefetch's rollouts: the chunks no one took are shared now; null if one failed (sampled again). */
  private async finishPrefetch(ahead: Promise<Array<SampleResult>>): Promise<Array<SampleResult> | null> {
    this.feedIdleWorkers()
    while (this.background.runOneHere()) await yieldToEventLoop()
    return ahead.catch(() => null)
  }

  private feedIdleWorkers(): void {
    for (const w of this.pool.alive()) this.background.feed(w, (x) => !this.pool.busy(x))
  }

  /**
   * The update, its micro-batches (`optim.microBatches`) shared between this thread and the workers as
   * each becomes free, summed in micro-batch order: the inline bits. A worker's micro-batch that fails is
   * computed here, on the same weights (nothing changes them before the sum is applied).
   */
  async update(rows: ReadonlyArray<UpdateRow>, kind: LossKind, importance: boolean, rehearsal?: Rehearsal, recall?: Rehearsal): Promise<UpdateStats> {
    const plan = this.model.planUpdate(rows, kind, importance, rehearsal, recall)
    const workers = this.pool.alive()
    const micro = plan.micro
    if (micro === null || workers.length === 0) return this.model.updateWith(plan, rows)
    const student = this.model.studentSource()
    const parts = await shareWork({
      tasks: micro.length, workers,
      local: (i) => this.model.microGrads(plan, micro[i]!),
      remote: (w, i) => this.pool.grads(w, student, kind, importance, micro[i]!),
      meanwhile: () => this.background.runOneHere()
    })
    this.feedIdleWorkers()
    return this.model.applyUpdate(plan, parts)
  }

  async scoreTeacher(contexts: ReadonlyArray<ReadonlyArray<number>>, responses: ReadonlyArray<ReadonlyArray<number>>): Promise<Array<Float32Array>> {
    if (contexts.length === 0) return []
    const c = this.cfg.teacher.interpolation
    const own = await this.score(this.model.teacherSource(), contexts, responses)
    return interpolateTeacher(own, c >= 1 ? null : await this.score(this.model.referenceSource(), contexts, responses), c)
  }

  async entropy(contexts: ReadonlyArray<ReadonlyArray<number>>, responses: ReadonlyArray<ReadonlyArray<number>>): Promise<number> {
    if (contexts.length === 0) return 0
    return meanEntropy(await this.score(this.model.studentSource(), contexts, responses), this.model.model.vocabSize)
  }

  /** The learner's side of the injected delays (the test knob `async.injectDelayMs`): before each update. */
  learnerDelay(): Effect.Effect<void> {
    const max = this.cfg.async.injectDelayMs ?? 0
    return max === 0 ? Effect.void : Effect.sleep(Rng.root(this.cfg.seed).fork("learner-delay", this.model.version).int(0, max))
  }

  private score(source: WeightSource, contexts: ReadonlyArray<ReadonlyArray<number>>, responses: ReadonlyArray<ReadonlyArray<number>>): Promise<Array<Float32Array>> {
    return this.split(contexts.length,
      (w, lo, hi) => this.pool.score(w, source, contexts.slice(lo, hi), responses.slice(lo, hi)),
      (lo, hi) => this.model.scoreWith(source, contexts.slice(lo, hi), responses.slice(lo, hi)))
  }

  /**
   * Rows [0, n) in chunks shared between this thread and the workers as each becomes free (shareWork.ts),
   * a few chunks per thread so a busy or slower thread takes fewer; a worker still busy (with background
   * work) takes its first chunk after that job. This thread, waiting for the workers' last chunks, takes
   * background work meanwhile, and idle workers go back to theirs at the end.
   */
  private async split<T>(
    n: number, remote: (w: number, lo: number, hi: number) => Promise<Array<T>>, local: (lo: number, hi: number) => Array<T>
  ): Promise<Array<T>> {
    const workers = this.pool.alive()
    if (n === 0 || workers.length === 0) return local(0, n)
    const ranges = rowRanges(n, Math.min(n, CHUNKS_PER_THREAD * (workers.length + 1)))
    const chunks = await shareWork({
      tasks: ranges.length, workers,
      local: (i) => local(...ranges[i]!),
      remote: (w, i) => remote(w, ...ranges[i]!),
      meanwhile: () => this.background.runOneHere()
    })
    this.feedIdleWorkers()
    return chunks.flat()
  }
}

/**
 * Chunks per thread of a shared row-wise job: enough that the threads finish together, few enough that
 * each stays a batched computation.
 */
const CHUNKS_PER_THREAD = 2
/** Rows per chunk of a prefetch: 64 rows sampled in 16-row chunks cost ~6% more than in one call. */
const PREFETCH_CHUNK_ROWS = 16

const prefetchKey = (requests: ReadonlyArray<SampleRequest>, maxNewTokens: number, greedy: boolean, weightsId: string): string =>
  hashValue([weightsId, maxNewTokens, greedy, requests.map((r) => [r.prompt, r.key])])
