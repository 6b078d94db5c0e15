/**
 * One worker thread as seen from Effect: start it (resolving when it reports Ready with the pool's
 * fingerprint) and send it one chunk (resolving with its reply, or with "crashed" if it dies first).
 * Time-outs are the caller's, on Effect's Clock; interrupting `start` terminates the thread.
 */
import { Worker } from "node:worker_threads"
import { Effect, Result, Schema } from "effect"
import { FromWorker, type CheckChunk } from "./protocol.ts"
import type { WorkerInit } from "./worker.ts"

export interface Handle {
  readonly worker: Worker
  dead: boolean
}

export type Outcome = { readonly _tag: "reply"; readonly msg: unknown } | { readonly _tag: "crashed" }

// the worker module beside this one: worker.ts from the sources, worker.js from the compiled package (dist/)
const WORKER_URL = new URL(import.meta.url.endsWith(".ts") ? "./worker.ts" : "./worker.js", import.meta.url)
export const decodeFromWorker = Schema.decodeUnknownResult(FromWorker)

/** Starts a worker; fails with the reason (its error message) if it exits before it is ready. */
export const start = (init: WorkerInit): Effect.Effect<Handle, string> =>
  Effect.callback<Handle, string>((resume) => {
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
  })

/** Sends one chunk and waits for the next message from the worker (or its death). */
export const send = (handle: Handle, chunk: CheckChunk): Effect.Effect<Outcome> =>
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
    try {
      handle.worker.postMessage(chunk)
    } catch {
      // e.g. a response that cannot be cloned: treat the worker as lost, the check is retried then failed
      off()
      return resume(Effect.succeed({ _tag: "crashed" }))
    }
    return Effect.sync(off)
  })
