/**
 * Decoding state held in JS memory: the embedding tables and each layer's KV cache.
 *
 * A layer's KV cache is kept per channel (C = B * H channels): k and v both [C, Tmax, dh].
 *
 * Why on the host: a decode step writes one key and one value per channel, and attends with one
 * query per channel. Done with tensors, the write is a masked select over the whole cache (three
 * element-wise kernels per cache per layer per step, plus the masks), and each of the two attention
 * convolutions packs the cache into an XNNPACK filter before doing as many multiply-adds as it
 * packed. Here the write is C * dh stores and the attention's sums are plain loops with float32
 * emulated exactly, in the convolutions' summation order: each product and each partial sum rounded
 * with Math.fround (a double product or sum of two float32s, rounded once, is the float32 one).
 * Every value is the same bits as the tensor path's (the sampler's pinned-bits test).
 */
import { param } from "../model/forward.ts"
import type { Params } from "../model/params.ts"
import { tf } from "../tf.ts"

/** A masked key's logit: its softmax weight is exactly 0. */
const MASKED = -1e9

/**
 * The token and position tables, read once per `sample` call: a decode step's input rows
 * tokEmb[token] + posEmb[position] are a few hundred float32 additions (a Float32Array store rounds
 * the double sum to the float32 sum, so the values equal the tensor gather-and-add's), not two gather
 * kernels and an add.
 */
export class HostEmbedding {
  private readonly tok: Float32Array
  private readonly pos: Float32Array
  private readonly d: number

  private constructor(tok: Float32Array, pos: Float32Array, d: number) {
    this.tok = tok
    this.pos = pos
    this.d = d
  }

  static of(params: Params): HostEmbedding {
    const tok = param(params, "tokEmb")
    return new HostEmbedding(tok.dataSync() as Float32Array, param(params, "posEmb").dataSync() as Float32Array, tok.shape[1]!)
  }

  /** Input rows [B, d] for tokens[b] at positions pos[b]. */
  lookup(tokens: Int32Array, pos: ReadonlyArray<number>): Float32Array {
    const d = this.d
    const h = new Float32Array(tokens.length * d)
    for (let b = 0; b < tokens.length; b++) {
      const t = tokens[b]! * d
      const p = pos[b]! * d
      for (let j = 0; j < d; j++) h[b * d + j] = this.tok[t + j]! + this.pos[p + j]!
    }
    return h
  }
}

/**
 * One layer's KV cache, keys and values both laid out [C, Tmax, dh]: a channel's keys (values) are
 * contiguous, position after position, so each dot product and each weighted sum below reads one
 * short contiguous run and keeps its accumulator in a local.
 */
export class HostKV {
  readonly dh: number
  readonly C: number
  readonly Tmax: number
  private readonly k: Float32Array
  private readonly v: Float32Array

  private constructor(dh: number, C: number, Tmax: number, k: Float32Array, v: Float32Array) {
    this.dh = dh
    this.C = C
    this.Tmax = Tmax
    this.k = k
    this.v = v
  }

  /** From prefill keys k [dh, C, P] and values v [P, C, dh] (attention.ts layouts), with room for Tmax >= P positions. */
  static fromPrefill(k: tf.Tensor3D, v: tf.Tensor3D, Tmax: number): HostKV {
    const [dh, C, P] = k.shape
    const kd = k.dataSync() as Float32Array
    const vd = v.dataSync() as Float32Array
    const hk = new Float32Array(C * Tmax * dh)
    const hv = new Float32Array(C * Tmax * dh)
    for (let c = 0; c < C; c++)
      for (let t = 0; t < P; t++)
        for (let e = 0; e < dh; e++) {
          hk[(c * Tmax + t) * dh + e] = kd[(e * C + c) * P + t]!
          hv[(c * Tmax + t) * dh + e] = vd[(t * C + c) * dh + e]!
        }
    return new HostKV(dh, C, Tmax, hk, hv)
  }

  /**
   * Stores this step's keys and values at position pos[b] of each of row b's H channels. `qkv` is
   * the step's fused projection [B, 3 * H * dh] (row b: queries, then keys, then values, each laid
   * out as column h * dh + e).
   */
  write(qkv: Float32Array, pos: ReadonlyArray<number>, H: number): void {
    const { dh, C, Tmax } = this
    const d = H * dh
    for (let c = 0; c < C; c++) {
      const b = Math.floor(c / H)
      const kSrc = b * 3 * d + d + (c % H) * dh
      const dst = (c * Tmax + pos[b]!) * dh
      this.k.set(qkv.subarray(kSrc, kSrc + dh), dst)
      this.v.set(qkv.subarray(kSrc + d, kSrc + d + dh), dst)
    }
  }

  /**
   * Attention logits S [C, L] of one decode step: S[c, j] = sum_e (q[c, e] * scale) K[c, j, e] for
   * the keys j <= pos[b] of channel c's row b, and -1e9 beyond (softmax weight exactly 0).
   *
   * Float32 arithmetic emulated exactly (see the module doc), in the order e = 0..dh-1: what the
   * attention convolution (attention.ts `cbmm`) computes, without packing the cache every step.
   */
  scores(qkv: Float32Array, pos: ReadonlyArray<number>, H: number, L: number, scale: number): Float32Array {
    const { dh, C, Tmax, k } = this
    const d = H * dh
    const s32 = Math.fround(scale)
    const out = new Float32Array(C * L).fill(MASKED)
    const q = new Float32Array(dh)
    for (let c = 0; c < C; c++) {
      const b = Math.floor(c / H)
      const n = pos[b]! + 1
      const qSrc = b * 3 * d + (c % H) * dh
      for (let e = 0; e < dh; e++) q[e] = Math.fround(qkv[qSrc + e]! * s32)
      // four keys at a time: four independent accumulator chains (one chain is latency-bound)
      let j = 0
      for (const kc = c * Tmax * dh, row = c * L; j + 4 <= n; j += 4) {
        const k0 = kc + j * dh
        let a0 = 0, a1 = 0, a2 = 0, a3 = 0
        for (let e = 0; e < dh; e++) {
          const qe = q[e]!
          a0 = Math.fround(a0 + Math.fround(qe * k[k0 + e]!))
          a1 = Math.fround(a1 + Math.fround(qe * k[k0 + dh + e]!))
          a2 = Math.fround(a2 + Math.fround(qe * k[k0 + 2 * dh + e]!))
          a3 = Math.fround(a3 + Math.fround(qe * k[k0 + 3 * dh + e]!))
        }
        out[row + j] = a0
        out[row + j + 1] = a1
        out[row + j + 2] = a2
        out[row + j + 3] = a3
      }
      for (; j < n; j++) {
        const kj = (c * Tmax + j) * dh
        let acc = 0
        for (let e = 0; e < dh; e++) acc = Math.fround(acc + Math.fround(q[e]! * k[kj + e]!))
        out[c * L + j] = acc
      }
    }
    return out
  }

  /**
   * Attention output Y [C, dh] (= [B, H * dh]) of one decode step from its probabilities P [C, L]:
   * Y[c, e] = sum_j P[c, j] V[c, j, e] in the order j = 0..L-1, float32 emulated as in `scores`.
   * Masked keys (P exactly 0) would add exact zeros, so they are skipped.
   */
  mix(probs: Float32Array, L: number): Float32Array {
    const { dh, C, Tmax, v } = this
    const out = new Float32Array(C * dh)
    for (let c = 0; c < C; c++) {
      const row = c * L
      const base = c * Tmax * dh
      // four outputs at a time: four independent accumulator chains
      let e = 0
      for (; e + 4 <= dh; e += 4) {
        let a0 = 0, a1 = 0, a2 = 0, a3 = 0
        for (let j = 0, vj = base + e; j < L; j++, vj += dh) {
          const p = probs[row + j]!
          if (p === 0) continue
          a0 = Math.fround(a0 + Math.fround(p * v[vj]!))
          a1 = Math.fround(a1 + Math.fround(p * v[vj + 1]!))
          a2 = Math.fround(a2 + Math.fround(p * v[vj + 2]!))
          a3 = Math.fround(a3 + Math.fround(p * v[vj + 3]!))
        }
        const o = c * dh + e
        out[o] = a0
        out[o + 1] = a1
        out[o + 2] = a2
        out[o + 3] = a3
      }
      for (; e < dh; e++) {
        let acc = 0
        for (let j = 0; j < L; j++) {
          const p = probs[row + j]!
          if (p !== 0) acc = Math.fround(acc + Math.fround(p * v[base + j * dh + e]!))
        }
        out[c * dh + e] = acc
      }
    }
    return out
  }
}
