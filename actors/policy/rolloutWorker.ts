/**
 * A rollout worker thread of the pipelined execution (issue #17): its own tfjs instance (the run's backend,
 * one XNNPACK thread), the weight sets the policy loaded into it, and two jobs, sampling and scoring, run
 * with the same numeric code the policy runs in place, plus a micro-batch's gradients (`optim.microBatches`). Results do not depend on which thread computes a
 * row (rows are independent of batch composition: src/numeric/sampling), so the policy can split its rows
 * across threads and still get the bits of the inline run.
 *
 * Messages are handled strictly in arrival order (one promise chain), so a `Load` always precedes the jobs
 * that use it. With `delayMaxMs` > 0 each job first waits a seeded random time (a test of the promise that
 * no result depends on timing).
 */
import { parentPort, workerData } from "node:worker_threads"
import { setTimeout as sleep } from "node:timers/promises"
import { Rng } from "../../src/core/Rng.ts"
import type { RunConfig } from "../../src/config/RunConfig.ts"
import { type BackendRequest, disposeParams, initBackend, lossGrads, type ModelConfig, type Params, paramsFromWeights, sample, scoreResponses } from "../../src/numeric/index.ts"
import { policyLoss } from "./loss.ts"
import type { FromRollout, ToRollout } from "./rolloutProtocol.ts"

/** What the pool passes as `workerData`. */
export interface RolloutWorkerInit {
  readonly index: number
  /** the run's config (the loss of a micro-batch reads it) */
  readonly cfg: RunConfig
  readonly model: ModelConfig
  readonly backend: BackendRequest
  readonly delayMaxMs: number
  readonly delaySeed: number
}

const port = parentPort
if (port === null) throw new Error("rollout worker: must run as a worker thread")
const init = workerData as RolloutWorkerInit
const sets = new Map<string, Params>()

/** Replies move their arrays' buffers instead of copying them (each buffer once: views may share one). */
const post = (m: FromRollout, arrays: ReadonlyArray<Float32Array> = []) => port.postMessage(m, [...new Set(arrays.map((a) => a.buffer as ArrayBuffer))])

const weightsOf = (id: string): Params => {
  const p = sets.get(id)
  if (p === undefined) throw new Error(`rollout worker ${init.index}: no weight set ${id}`)
  return p
}

const handle = async (m: ToRollout): Promise<void> => {
  if (m._tag === "Load") {
    for (const id of [...m.evict, m.id]) {
      const old = sets.get(id)
      if (old !== undefined) disposeParams(old)
      sets.delete(id)
    }
    sets.set(m.id, paramsFromWeights(init.model, m.weights))
    return
  }
  if (init.delayMaxMs > 0) await sleep(Rng.root(init.delaySeed).fork("rollout-delay", init.index, m.job).int(0, init.delayMaxMs))
  const t0 = performance.now()
  try {
    if (m._tag === "Sample") {
      const results = sample(weightsOf(m.weights), init.model, m.rows.map((r) => ({ prompt: r.prompt, rng: Rng.root(m.seed).fork(...r.key) })), m.options)
      post({ _tag: "Sampled", job: m.job, busyMs: performance.now() - t0, results }, results.flatMap((r) => [r.logProbs, r.sampleLogProbs]))
    } else if (m._tag === "Grad") {
      const params = weightsOf(m.weights)
      const g = lossGrads(params, () => policyLoss(params, init.model, init.cfg, m.kind, { batch: m.micro.batch, importance: m.importance, refSeqLogp: null, micro: m.micro.context }))
      post({ _tag: "Grads", job: m.job, busyMs: performance.now() - t0, loss: g.loss, grads: g.grads }, g.grads.map((x) => x.values))
    } else {
      const logProbs = scoreResponses(weightsOf(m.weights), init.model, m.contexts, m.responses).map((s) => s.logProbs)
      post({ _tag: "Scored", job: m.job, busyMs: performance.now() - t0, logProbs }, logProbs)
    }
  } catch (e) {
    post({ _tag: "Failed", job: m.job, message: e instanceof Error ? e.message : String(e) })
  }
}

// the run's numeric mode too: a worker's rows must have the learner's bits (pipelined = inline)
let chain: Promise<void> = initBackend(init.backend, { fma: init.cfg.numeric?.fma ?? false }).then(() => post({ _tag: "Ready", worker: init.index }))
port.on("message", (m: ToRollout) => {
  chain = chain.then(() => handle(m))
})
