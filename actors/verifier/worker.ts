/**
 * A verifier worker thread: receives the verifier spec and the problems in `workerData`, then answers
 * each `CheckChunk` with one `CheckedChunk`: the domain's pure verdict and its digest for every item.
 *
 * It imports no Effect code, no generator and no codec, so that it starts fast; the pool validates
 * everything it sends back. Injected faults are decided by the pool and only executed here, per item:
 *   crash  throw from a callback (the thread dies with an 'error' event; the chunk is lost)
 *   hang   block the thread (Atomics.wait with no waker) until the pool terminates it
 *   slow   wait `slowMillis` of real time before going on (results must not depend on it)
 *   flaky  report a damaged verdict with the digest of the true one (the pool must catch it)
 */
import { parentPort, workerData } from "node:worker_threads"
import { setTimeout as sleep } from "node:timers/promises"
import type { ProblemBase } from "../../src/domains/Domain.ts"
import { verifyWith, type VerifySpec } from "../../src/domains/verify.ts"
import { verdictDigest } from "./digest.ts"
import type { CheckChunk, CheckItem } from "./protocol.ts"

/** What the pool passes as `workerData`. */
export interface WorkerInit {
  readonly spec: VerifySpec
  readonly problems: ReadonlyArray<ProblemBase>
  readonly fingerprint: string
}

const port = parentPort
if (port === null) throw new Error("verifier worker: must run as a worker thread")

const init = workerData as WorkerInit
const problems = new Map(init.problems.map((p) => [p.id, p]))

const check = (item: CheckItem) => {
  // The pool checks ids before dispatch, so a miss is a bug: throwing crashes the worker visibly.
  const problem = problems.get(item.request.problemId)
  if (problem === undefined) throw new Error(`verifier worker: unknown problem ${item.request.problemId}`)
  const verdict = verifyWith(init.spec, problem, item.request.response, item.request.protocol)
  const digest = verdictDigest(verdict)
  const sent = item.fault === "flaky" ? { ...verdict, reward: 1 - verdict.reward, solved: !verdict.solved } : verdict
  return { jobId: item.jobId, verdict: sent, digest }
}

// Chunks are handled strictly one after another (the pool sends the next only after this reply).
port.on("message", async (chunk: CheckChunk) => {
  const items = []
  for (const item of chunk.items) {
    if (item.fault === "crash") {
      setImmediate(() => {
        throw new Error(`injected crash (job ${item.jobId})`)
      })
      return
    }
    if (item.fault === "hang") Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)
    if (item.fault === "slow") await sleep(chunk.slowMillis)
    items.push(check(item))
  }
  port.postMessage({ _tag: "CheckedChunk", chunkId: chunk.chunkId, items })
})

port.postMessage({ _tag: "Ready", fingerprint: init.fingerprint })
