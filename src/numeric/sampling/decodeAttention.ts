/**
 * One decode step's attention over a host KV cache (hostCache.ts): logits S [C, L] from the scaled
 * queries and the cached keys, the softmax (a tfjs kernel, passed in), and the probability-weighted
 * sum of the cached values, Y [C, dh] (= [B, H * dh]). Keys j > pos[b] of row b are masked (logit
 * -1e9, softmax weight exactly 0) and skipped.
 *
 * Bits: every output is a float32 sum in a fixed order (S over e = 0..dh-1, Y over j = 0..pos[b]),
 * each product and partial sum rounded to float32, which is what the tensor path's attention
 * convolutions (attention.ts `cbmm`) compute. The wasm SIMD kernels (wasm/decodeKernels.wat) do it
 * with f32x4 lanes as separate outputs; heads whose size is not a multiple of 4 use `scoresJs` /
 * `mixJs`, which emulate float32 with Math.fround (a double product or sum of two float32s, rounded
 * once, is the float32 one). Tests check the kernels against the JS sums bit for bit, and the
 * sampler's outputs against pinned bits.
 */
import { decodeKernels, kernelsFit } from "../wasm/decodeKernels.ts"
import type { Arena, F32Region, I32Region } from "../wasm/kernelModule.ts"
import type { HostKV } from "./hostCache.ts"

/** A masked key's logit: its softmax weight is exactly 0. */
export const MASKED = -1e9

/** s[c, j] = sum_e q[c, e] k[c, e, j] for j < n[c], MASKED for n[c] <= j < L (k [C, dh, T]). */
export const scoresJs = (C: number, dh: number, T: number, L: number, q: Float32Array, k: Float32Array, n: Int32Array, s: Float32Array): void => {
  for (let c = 0; c < C; c++) {
    const nc = n[c]!
    const row = c * L
    s.fill(0, row, row + nc)
    s.fill(MASKED, row + nc, row + L)
    for (let e = 0; e < dh; e++) {
      const qe = q[c * dh + e]!
      const kRow = (c * dh + e) * T
      // each j is its own accumulator chain, so this inner loop is not latency-bound
      for (let j = 0; j < nc; j++) s[row + j] = Math.fround(s[row + j]! + Math.fround(qe * k[kRow + j]!))
    }
  }
}

/** y[c, e] = sum_{j < n[c]} p[c, j] v[c, j, e] (p [C, L], v [C, T, dh]). */
export const mixJs = (C: number, dh: number, T: number, L: number, p: Float32Array, v: Float32Array, n: Int32Array, y: Float32Array): void => {
  for (let c = 0; c < C; c++) {
    const nc = n[c]!
    for (let e = 0; e < dh; e++) {
      let acc = 0
      for (let j = 0; j < nc; j++) acc = Math.fround(acc + Math.fround(p[c * L + j]! * v[(c * T + j) * dh + e]!))
      y[c * dh + e] = acc
    }
  }
}

/** Softmax over the last axis of logits [C, L] (the caller's tfjs kernel). */
export type Softmax = (logits: Float32Array, C: number, L: number) => Float32Array

/** The scratch of one `sample` call's decode steps (queries, visible-key counts, logits, probabilities, outputs). */
export class DecodeAttention {
  private readonly qkv: F32Region
  private readonly pos: I32Region
  private readonly q: F32Region
  private readonly n: I32Region
  private readonly s: F32Region
  private readonly p: F32Region
  private readonly y: F32Region
  private readonly simd: boolean
  private readonly C: number
  private readonly dh: number
  private readonly Tmax: number

  constructor(arena: Arena, C: number, dh: number, Tmax: number) {
    this.C = C
    this.dh = dh
    this.Tmax = Tmax
    this.qkv = arena.floats(3 * C * dh, false)
    this.pos = arena.ints(C)
    this.q = arena.floats(C * dh)
    this.n = arena.ints(C)
    this.s = arena.floats(C * Tmax)
    this.p = arena.floats(C * Tmax)
    this.y = arena.floats(C * dh)
    this.simd = kernelsFit(dh)
  }

  /** Bytes (and regions) the constructor takes from an arena. */
  static bytes(C: number, dh: number, Tmax: number): { bytes: number; regions: number } {
    return { bytes: (5 * C * dh + 2 * C * Tmax + 2 * C) * 4, regions: 7 }
  }

  /**
   * Writes this step's keys and values into `cache` at each row's position, then returns the
   * attention output Y [C, dh] (a view into the kernels' memory, overwritten by the next step:
   * copy it at once): `qkv` [B, 3 * H * dh] is the step's fused projection (row b: queries, keys,
   * values, each at column h * dh + e), `pos[b]` row b's position, L (a multiple of 8, at least
   * every pos[b] + 1, at most Tmax) the keys attended over.
   */
  run(cache: HostKV, qkv: Float32Array, pos: ReadonlyArray<number>, H: number, L: number, scale: number, softmax: Softmax): Float32Array {
    const { C, dh, Tmax } = this
    const k = decodeKernels()
    this.qkv.view.set(qkv.subarray(0, 3 * C * dh))
    for (let b = 0; b < pos.length; b++) this.pos.view[b] = pos[b]!
    // the scale becomes a float32 as the argument crosses into wasm: the float32 product of each query
    k.append(C, H, dh, Tmax, this.qkv.ptr, this.pos.ptr, scale, cache.k.ptr, cache.v.ptr, this.q.ptr, this.n.ptr)
    const sView = this.s.view.subarray(0, C * L)
    if (this.simd) k.scores(C, dh, Tmax, L, this.q.ptr, cache.k.ptr, this.n.ptr, this.s.ptr)
    else scoresJs(C, dh, Tmax, L, this.q.view, cache.k.view, this.n.view, sView)
    this.p.view.set(softmax(sView, C, L))
    if (this.simd) k.mix(C, dh, Tmax, L, this.p.ptr, cache.v.ptr, this.n.ptr, this.y.ptr)
    else mixJs(C, dh, Tmax, L, this.p.view, cache.v.view, this.n.view, this.y.view)
    return this.y.view
  }
}
