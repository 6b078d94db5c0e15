/**
 * A decode step's dense layers (decodeGemm.wat), working in the tfjs heap: y = r + relu(x @ w + bias)
 * with the bits of tfjs's matMul, add, relu and add (see the .wat). Where the heap cannot be imported
 * (the threaded wasm build, other backends) `decodeGemm()` is undefined and the sampler keeps its ops.
 */
import { DECODE_GEMM_HEAP_WASM } from "./decodeGemmHeap.bytes.ts"
import { heapModule } from "./tfjsHeap.ts"

export interface DecodeGemmExports {
  /** y = r + relu(x @ w + bias): byte offsets into the tfjs heap, `wp` w's panels (`pack8`), `relu` 0 or 1, `r` 0 for no residual. */
  readonly dense: (M: number, N: number, K: number, x: number, w: number, wp: number, bias: number, relu: number, r: number, y: number) => void
  /** Copies w [K, N]'s full 8-column panels to wp (`panelFloats(K, N)` floats). */
  readonly pack8: (K: number, N: number, w: number, wp: number) => void
}

/** The kernel bound to the tfjs heap, or undefined where it cannot be imported. */
export const decodeGemm = heapModule<DecodeGemmExports>(DECODE_GEMM_HEAP_WASM)

/** Floats `pack8` writes for w [K, N]. */
export const panelFloats = (K: number, N: number): number => K * Math.floor(N / 8) * 8
