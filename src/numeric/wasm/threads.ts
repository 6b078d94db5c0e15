/**
 * Multi-threaded XNNPACK for the wasm backend under Node.
 *
 * tfjs-backend-wasm 4.22 ships a threaded SIMD build but switches it off in Node (tfjs issue 3830):
 * its flag says "no threads" there, it starts Emscripten's pthread workers from blob: URLs (Node's
 * Worker accepts only files), posts the main script to them as a Blob (the worker reads it with
 * readFileSync), and sizes the pool as logical cores / 2, which is 1 on a 2-vCPU machine. This
 * module fixes those four points from the outside, without touching node_modules:
 *
 * - the flag WASM_HAS_MULTITHREAD_SUPPORT is set to true;
 * - `worker_threads.Worker` is replaced, while the backend initialises, by a subclass that starts
 *   ./pthreadWorker.cjs for blob: URLs and sends the main script's file path instead of the Blob;
 * - `os.cpus()` reports 2 x threads cores while the backend initialises.
 *
 * XNNPACK splits work across threads by output tiles; every output element is still summed in one
 * thread in one order, so results are bit-identical for any thread count (test/numeric/threads.test.ts
 * compares weight hashes after training steps with 1 and 2 threads, in separate processes).
 */
import { setThreadsCount } from "@tensorflow/tfjs-backend-wasm"
import { createRequire } from "node:module"
import os from "node:os"
import wt from "node:worker_threads"
import { fileURLToPath } from "node:url"
import { tf } from "../tf.ts"

const require = createRequire(import.meta.url)
const workerScript = fileURLToPath(new URL("./pthreadWorker.cjs", import.meta.url))
const mainScript = require.resolve("@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js")

interface LoadMessage {
  readonly cmd: "load"
  readonly urlOrBlob: unknown
}
const isLoad = (m: unknown): m is LoadMessage =>
  typeof m === "object" && m !== null && (m as { cmd?: unknown }).cmd === "load"

const started = new Set<wt.Worker>()

/** Starts Emscripten's pthread workers from files (and remembers them, see startWasm). */
class PthreadWorker extends wt.Worker {
  constructor(script: string | URL, options?: wt.WorkerOptions) {
    const fromBlob = typeof script === "string" && script.startsWith("blob:")
    super(fromBlob ? workerScript : script, options)
    started.add(this)
  }
  override postMessage(message: unknown, transfer?: ReadonlyArray<wt.Transferable>): void {
    const m = isLoad(message) && typeof message.urlOrBlob !== "string" ? { ...message, urlOrBlob: mainScript } : message
    super.postMessage(m, transfer as Array<wt.Transferable>)
  }
}

/**
 * `tf.setBackend("wasm")` on `threads` XNNPACK threads, with the patches above in place only while the
 * backend initialises. `threads` <= 1 starts the single-threaded SIMD build, untouched.
 */
export const startWasm = async (threads: number): Promise<boolean> => {
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", threads > 1)
  if (threads <= 1) return tf.setBackend("wasm")
  const module = wt as { Worker: typeof wt.Worker }
  const originalWorker = module.Worker
  const originalCpus = os.cpus
  setThreadsCount(threads)
  module.Worker = PthreadWorker
  // the backend caps its pool at cpus().length / 2 (it assumes 2 hyper-threads per core)
  const cpu = originalCpus()[0]!
  os.cpus = () => Array.from({ length: 2 * threads }, () => cpu)
  try {
    const ok = await tf.setBackend("wasm")
    // The pool's threads are up and Emscripten has ref'd their workers, which would keep the process
    // alive after its work is done; they only ever run inside synchronous kernel calls, so unref them.
    for (const w of started) w.unref()
    return ok
  } finally {
    module.Worker = originalWorker
    os.cpus = originalCpus
  }
}
