/**
 * The opt-in `numeric.fma` mode (issue #17): a process-wide setting, like the XNNPACK thread count, set
 * at backend initialisation (`initBackend(kind, { fma })`) and read by the ops (model/ops.ts,
 * model/attention.ts). When it is on and the backend is wasm, `mm` (its value and both gradients) and
 * the attention's products (`selfAttention`'s row-layout products, or the channel-last `cbmm`) run in
 * the relaxed-SIMD kernels of wasm/fmaKernels.wat instead of XNNPACK and our exact kernels. Off (the
 * default), nothing changes.
 *
 * Its bits are machine-specific: `f32x4.relaxed_madd` is a fused multiply-add (one rounding) where
 * the engine finds FMA on the CPU, and a multiply then an add (two roundings) where it does not, and
 * the engine may choose. On a given machine and engine every kernel sums in one fixed order, so the
 * bits are the same every time, for any thread count. `fmaFingerprint()` names this machine's
 * behaviour: a run in the mode records it with its checkpoints, and a resume on a machine whose
 * fingerprint differs is refused (src/experiments/restore.ts) instead of silently changing bits.
 */
import { sha256Hex } from "../core/Hash.ts"
import { BackendError } from "./errors.ts"
import { fmaProduct } from "./wasm/fmaKernels.ts"

let enabled = false

/** Whether the fma mode is on (the ops also need the wasm backend to use its kernels). */
export const fmaEnabled = (): boolean => enabled

let fingerprint: string | undefined

/**
 * This machine's fma behaviour: `fused-<16 hex>` or `unfused-<16 hex>`, the hex a sha-256 of the
 * output bits of a fixed probe product through the fma GEMM (3 x 5 @ 5 x 17: the tile padding is
 * crossed). One output is (1 + 2^-13)^2 - (1 + 2^-12), which is 2^-26 fused and 0 unfused; the others
 * are seeded values of mixed magnitudes. Computed once per process.
 */
export const fmaFingerprint = (): string => {
  if (fingerprint !== undefined) return fingerprint
  const [M, K, N] = [3, 5, 17]
  let state = 12345
  // a fixed linear congruential sequence: the probe's inputs are constants, not a random draw
  const next = (): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0
    return ((state >>> 8) / 2 ** 24 - 0.5) * 2 ** ((state & 7) - 3)
  }
  const a = Float32Array.from({ length: M * K }, next)
  const b = Float32Array.from({ length: K * N }, next)
  // output [0, 0] = a[0, 0] b[0, 0] + a[0, 1] b[1, 0] = -(1 + 2^-12) + (1 + 2^-13)^2, in that order
  a.fill(0, 0, K)
  for (let k = 0; k < K; k++) b[k * N] = 0
  a[0] = -(1 + 2 ** -12)
  b[0] = 1
  a[1] = 1 + 2 ** -13
  b[N] = 1 + 2 ** -13
  let c: Float32Array
  try {
    c = fmaProduct(a, b, M, K, N).slice()
  } catch (e) {
    throw new BackendError("wasm", `numeric.fma needs WebAssembly relaxed SIMD (Node >= 22): ${String(e)}`)
  }
  const fused = c[0] === 2 ** -26
  fingerprint = `${fused ? "fused" : "unfused"}-${sha256Hex(new Uint8Array(c.buffer)).slice(0, 16)}`
  return fingerprint
}

/** Sets the mode (initBackend calls it). Turning it on first runs the probe, which fails without relaxed SIMD. */
export const setFmaMode = (on: boolean): void => {
  if (on) fmaFingerprint()
  enabled = on
}
