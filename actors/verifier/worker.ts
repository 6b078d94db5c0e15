/**
 * A verifier worker thread: receives the verifier spec and the problems in `workerData`, then answers
 * `Check` messages one at a time with the domain's pure verdict and its digest.
 *
 * It imports no Effect code, no generator and no codec, so that it starts fast; the pool validates
 * everything it sends back.
 * Injected faults are decided by the pool and only executed here:
 *   crash  throw from a callback (the thread dies with an 'error' event)
 *   hang   block the thread (Atomics.wait with no waker) until the pool terminates it
 *   slow   answer after `slowMillis` of real time (results must not depend on it)
 *   flaky  answer with a damaged verdict but the digest of the true one (the pool must catch it)
 */
import { parentPort, workerData } from "node:worker_threads"
import type { ProblemBase } from "../../src/domains/Domain.ts"
import { verifyWith, type VerifySpec } from "../../src/domains/verify.ts"
import { verdictDigest } from "./digest.ts"
import type { Check } from "./protocol.ts"

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

const answer = (check: Check): void => {
  // The pool checks ids before dispatch, so a miss is a bug: throwing crashes the worker visibly.
  const problem = problems.get(check.request.problemId)
  if (problem === undefined) throw new Error(`verifier worker: unknown problem ${check.request.problemId}`)
  const verdict = verifyWith(init.spec, problem, check.request.response, check.request.protocol)
  const digest = verdictDigest(verdict)
  const sent = check.fault === "flaky" ? { ...verdict, reward: 1 - verdict.reward, solved: !verdict.solved } : verdict
  port.postMessage({ _tag: "Checked", jobId: check.jobId, verdict: sent, digest })
}

port.on("message", (check: Check) => {
  switch (check.fault) {
    case "crash":
      setImmediate(() => {
        throw new Error(`injected crash (job ${check.jobId})`)
      })
      return
    case "hang":
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)
      return
    case "slow":
      setTimeout(() => answer(check), check.slowMillis)
      return
    default:
      answer(check)
  }
})

port.postMessage({ _tag: "Ready", fingerprint: init.fingerprint })
