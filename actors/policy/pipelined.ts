/**
 * The policy's pipelined execution (issue #17): its row-wise work (sampling, teacher scoring, entropy)
 * split across the learner's thread and the rollout workers, and the next step's rollouts sampled by the
 * workers while the learner updates (`prefetch`).
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

/** One batch of next-step rollouts to sample ahead, from the student of `version` (if the policy still has it). */
export interface PrefetchBatch {
  readonly requests: ReadonlyArray<SampleRequest>
  readonly maxNewTokens: number
  readonly version: number
  readonly greedy: boolean
}

export class PipelinedPolicy {
  /** prefetched rollouts by key (requests + weight-set id); null when a worker failed (sampled here instead) */
  private readonly prefetched = new Map<string, Promise<Array<SampleResult> | null>>()
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
    const early = ahead === undefined ? null : await ahead
    if (early !== null) this.prefetchTaken++
    const results = early ?? await this.split(requests.length, true,
      (w, lo, hi) => this.pool.sample(w, source, this.cfg.seed, requests.slice(lo, hi), this.model.sampleOptions(maxNewTokens, greedy)),
      (lo, hi) => this.model.sampleFrom(source, requests.slice(lo, hi), this.model.sampleOptions(maxNewTokens, greedy)))
    return { results, version: source.version }
  }

  /**
   * Hands the next step's rollouts to the workers (the step asks while this thread is about to be busy).
   * Replaces what an earlier prefetch left unused. A version this policy no longer has, or does not have
   * yet, is skipped: that batch is sampled when it is asked for.
   */
  prefetch(batches: ReadonlyArray<PrefetchBatch>): void {
    this.prefetched.clear()
    for (const b of batches) {
      const source = this.model.sourceAtVersion(b.version)
      if (source === undefined || this.pool.alive().length === 0) continue
      const options = this.model.sampleOptions(b.maxNewTokens, b.greedy)
      const work = this.split(b.requests.length, false,
        (w, lo, hi) => this.pool.sample(w, source, this.cfg.seed, b.requests.slice(lo, hi), options),
        () => { throw new Error("no local shard") })
      this.prefetched.set(prefetchKey(b.requests, b.maxNewTokens, b.greedy, source.id), work.catch(() => null))
    }
  }

  /**
   * The update, its micro-batches (`optim.microBatches`) shared round-robin between this thread (the
   * first) and the workers, summed in micro-batch order: the inline bits. A worker's micro-batch that
   * fails is computed here, on the same weights (nothing changes them before the sum is applied).
   */
  async update(rows: ReadonlyArray<UpdateRow>, kind: LossKind, importance: boolean, rehearsal?: Rehearsal): Promise<UpdateStats> {
    const plan = this.model.planUpdate(rows, kind, importance, rehearsal)
    const workers = this.pool.alive()
    if (plan.micro === null || workers.length === 0) return this.model.updateWith(plan, rows)
    const student = this.model.studentSource()
    const turns = workers.length + 1
    const remote = plan.micro.map((m, i) => (i % turns === 0 ? null : this.pool.grads(workers[(i % turns) - 1]!, student, kind, importance, m).catch(() => null)))
    const local = plan.micro.map((m, i) => (remote[i] === null ? this.model.microGrads(plan, m) : null))
    const parts = await Promise.all(plan.micro.map(async (m, i) => local[i] ?? (await remote[i]!) ?? this.model.microGrads(plan, m)))
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
    return this.split(contexts.length, true,
      (w, lo, hi) => this.pool.score(w, source, contexts.slice(lo, hi), responses.slice(lo, hi)),
      (lo, hi) => this.model.scoreWith(source, contexts.slice(lo, hi), responses.slice(lo, hi)))
  }

  /**
   * Rows [0, n) in shards: the first on this thread (when `here`, sharing with idle workers only), one
   * per worker; a worker's shard that fails is computed here. The workers' jobs are posted before this
   * thread starts its own shard, so both run at once.
   */
  private async split<T>(
    n: number, here: boolean, remote: (w: number, lo: number, hi: number) => Promise<Array<T>>, local: (lo: number, hi: number) => Array<T>
  ): Promise<Array<T>> {
    // a worker still busy (with a prefetch) would make this thread wait: share only with idle ones
    const workers = here ? this.pool.idle() : this.pool.alive()
    if (n === 0 || workers.length === 0) return local(0, n)
    const ranges = rowRanges(n, workers.length + (here ? 1 : 0))
    const theirs = workers.map((w, i) => {
      const [lo, hi] = ranges[i + (here ? 1 : 0)]!
      return remote(w, lo, hi).catch(() => local(lo, hi))
    })
    const mine = here ? local(...ranges[0]!) : []
    return [...mine, ...(await Promise.all(theirs)).flat()]
  }
}

const prefetchKey = (requests: ReadonlyArray<SampleRequest>, maxNewTokens: number, greedy: boolean, weightsId: string): string =>
  hashValue([weightsId, maxNewTokens, greedy, requests.map((r) => [r.prompt, r.key])])
