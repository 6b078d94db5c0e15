/**
 * Backend selection for the numeric layer.
 *
 * - `wasm` (default): XNNPACK SIMD, on `threads` threads (wasm/threads.ts makes tfjs's threaded
 *   build work in Node; 1 = the single-threaded SIMD build). Deterministic: the same program gives
 *   bit-identical results run after run, on Node 20 and 22, and for every thread count.
 * - `cpu`: tfjs's pure-JS kernels, ~20x slower. Deterministic, but its bits differ from wasm's.
 * - `tfjs-node-gpu`, `tfjs-node`: native TensorFlow, used when the package is installed (it is an
 *   optional, dynamically imported dependency). Multi-threaded reductions: not known deterministic.
 * - `auto`: the first of tfjs-node-gpu, tfjs-node, wasm that initialises.
 *
 * Bit-identical replay needs the same backend on every run; `backendInfo().deterministic` says
 * whether the active one is known to give that.
 *
 * `fma` (fmaMode.ts, opt-in): on the wasm backend, `mm` and the attention's products run in relaxed-SIMD
 * fused multiply-add kernels: faster, deterministic on a given machine, but with machine-specific bits. Other backends
 * ignore it (they use the tfjs ops, as with every kernel of ours); `backendInfo().fma` says whether
 * it is in effect.
 */
import { BackendError } from "./errors.ts"
import { tf } from "./tf.ts"
import { startWasm } from "./wasm/threads.ts"
import { kernelMemoryBytes } from "./wasm/kernelModule.ts"
import { fmaEnabled, setFmaMode } from "./fmaMode.ts"
import { shareIdentityOnWasm } from "./wasm/sharedIdentity.ts"

export type BackendName = "wasm" | "cpu" | "tfjs-node" | "tfjs-node-gpu"
export type BackendRequest = BackendName | "auto"

export interface BackendInfo {
  readonly name: BackendName
  /** Name tfjs itself reports (e.g. "wasm", "cpu", "tensorflow"). */
  readonly tfBackend: string
  /** Known to give bit-identical results for identical programs (wasm, cpu). */
  readonly deterministic: boolean
  readonly simd: boolean
  /** XNNPACK threads of the wasm backend (1 for every other backend). */
  readonly threads: number
  /** whether the fma mode's kernels are in use (requested and the backend is wasm) */
  readonly fma: boolean
}

export interface BackendOptions {
  /** wasm only: XNNPACK threads, fixed for the life of the process once the backend is up. Default 1. */
  readonly threads?: number
  /**
   * the opt-in fma mode (fmaMode.ts): true on, false off (the default), absent = keep the current
   * setting. Process-wide; a run passes its `numeric.fma` at initialisation. Ignored off wasm.
   */
  readonly fma?: boolean
}

const DETERMINISTIC: Record<BackendName, boolean> = { wasm: true, cpu: true, "tfjs-node": false, "tfjs-node-gpu": false }

let active: BackendInfo | undefined

// The native packages register a "tensorflow" backend on import. The specifier is built at run time
// so that TypeScript and bundlers do not require the optional package to exist.
const importOptional = async (pkg: string): Promise<boolean> => {
  try {
    await import(/* @vite-ignore */ pkg)
    return true
  } catch {
    return false
  }
}

const activate = async (name: BackendName, threads: number): Promise<BackendInfo> => {
  let tfName: string = name
  if (name === "tfjs-node" || name === "tfjs-node-gpu") {
    if (!(await importOptional(`@tensorflow/${name}`))) throw new BackendError(name, `package @tensorflow/${name} is not installed`)
    tfName = "tensorflow"
  }
  let ok: boolean
  try {
    ok = name === "wasm" ? await startWasm(threads) : await tf.setBackend(tfName)
  } catch (e) {
    throw new BackendError(name, `initialisation failed: ${String(e)}`)
  }
  if (!ok) throw new BackendError(name, "initialisation failed")
  await tf.ready()
  // the tensors gradients keep share their data instead of copying it (same values, fewer copies)
  if (name === "wasm") shareIdentityOnWasm()
  const simd = name === "wasm" ? Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) : false
  const actualThreads = name === "wasm" ? wasmThreadsCount() : 1
  active = { name, tfBackend: tf.getBackend(), deterministic: DETERMINISTIC[name], simd, threads: actualThreads, fma: false }
  return active
}

// The backend object carries the Emscripten module; its C side knows the pool it really made.
const wasmThreadsCount = (): number =>
  (tf.backend() as unknown as { wasm: { tfjs: { getThreadsCount: () => number } } }).wasm.tfjs.getThreadsCount()

/**
 * Selects and initialises a backend (idempotent when it is already active). The wasm thread count
 * is taken the first time wasm initialises in a process; later calls keep the running pool.
 */
export const initBackend = async (request: BackendRequest = "wasm", options: BackendOptions = {}): Promise<BackendInfo> => {
  const threads = options.threads ?? 1
  if (!Number.isInteger(threads) || threads < 1) throw new BackendError("wasm", `threads must be a positive integer, got ${threads}`)
  if (options.fma !== undefined) setFmaMode(options.fma)
  const info = await select(request, threads)
  active = { ...info, fma: info.name === "wasm" && fmaEnabled() }
  return active
}

const select = async (request: BackendRequest, threads: number): Promise<BackendInfo> => {
  if (active !== undefined && request === active.name && tf.getBackend() === active.tfBackend) return active
  if (request !== "auto") return activate(request, threads)
  for (const name of ["tfjs-node-gpu", "tfjs-node"] as const) {
    try {
      return await activate(name, threads)
    } catch {
      // not installed or not usable: try the next one
    }
  }
  return activate("wasm", threads)
}

/** The active backend; throws if initBackend has not run. */
export const backendInfo = (): BackendInfo => {
  if (active === undefined || tf.getBackend() !== active.tfBackend) {
    throw new BackendError(tf.getBackend() ?? "none", "no backend selected through initBackend")
  }
  return active
}

/** Where the numeric layer's bytes sit (a memory bench reads it; wasm memories only ever grow). */
export interface NumericMemory {
  /** the tfjs wasm backend's heap (tensors, kernel scratch), 0 on other backends */
  readonly tfjsHeapBytes: number
  /** bytes of live tfjs tensors */
  readonly tensorBytes: number
  /** our own wasm kernels' memories (decode caches, attention and gradient scratch) */
  readonly kernelBytes: number
}

export const numericMemory = (): NumericMemory => {
  const wasm = (tf.backend() as unknown as { wasm?: { HEAPU8?: { buffer: ArrayBuffer } } }).wasm
  return { tfjsHeapBytes: wasm?.HEAPU8?.buffer.byteLength ?? 0, tensorBytes: tf.memory().numBytes, kernelBytes: kernelMemoryBytes() }
}
