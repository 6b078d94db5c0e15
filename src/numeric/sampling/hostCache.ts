/**
 * Decoding state held in JS memory: the embedding tables and each layer's KV cache.
 *
 * A layer's KV cache is kept, in the attention.ts layouts (C = B * H channels):
 * k [dh, C, Tmax], v [Tmax, C, dh].
 *
 * Why on the host: a decode step writes one key and one value per channel. Done with tensors, that
 * write is a masked select over the whole cache (cache * keep + new * select: three element-wise
 * kernels per cache per layer per step, plus the masks); here it is C * dh stores, and the step's
 * attention gets the cache as one upload (a memcpy into wasm memory). The values are the ones the
 * select produced (it was exact), so results are unchanged bit for bit.
 */
import { param } from "../model/forward.ts"
import type { Params } from "../model/params.ts"
import { tf } from "../tf.ts"

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

  /** From prefill keys k [dh, C, P] and values v [P, C, dh], with room for Tmax >= P positions. */
  static fromPrefill(k: tf.Tensor3D, v: tf.Tensor3D, Tmax: number): HostKV {
    const [dh, C, P] = k.shape
    const kd = k.dataSync() as Float32Array
    const hk = new Float32Array(dh * C * Tmax)
    for (let row = 0; row < dh * C; row++) hk.set(kd.subarray(row * P, row * P + P), row * Tmax)
    const hv = new Float32Array(Tmax * C * dh)
    hv.set(v.dataSync() as Float32Array) // the first P positions are contiguous
    return new HostKV(dh, C, Tmax, hk, hv)
  }

  /**
   * Stores this step's keys and values, kNew / vNew [B, H * dh] (row b, column h * dh + e), at
   * position pos[b] of each of row b's H channels.
   */
  write(kNew: Float32Array, vNew: Float32Array, pos: ReadonlyArray<number>, H: number): void {
    const { dh, C, Tmax } = this
    for (let c = 0; c < C; c++) {
      const p = pos[Math.floor(c / H)]!
      const src = c * dh // row b = c / H, column (c % H) * dh: the same offset, since d = H * dh
      for (let e = 0; e < dh; e++) {
        this.k[(e * C + c) * Tmax + p] = kNew[src + e]!
        this.v[(p * C + c) * dh + e] = vNew[src + e]!
      }
    }
  }

  /**
   * The first L positions of the cache as tensors k [dh, C, L], v [L, C, dh] (copies; they belong to
   * the caller's tidy). Attending over L <= Tmax keys (a multiple of 8 covering every row's position)
   * gives the same bits as over Tmax: the keys beyond are masked and add exact zeros (rows.ts
   * `alignLength`), and the attention kernels, whose cost is mostly packing the cache, get less to pack.
   */
  tensors(L: number): { k: tf.Tensor3D; v: tf.Tensor3D } {
    const { dh, C, Tmax } = this
    let k = this.k
    if (L < Tmax) {
      // an element loop: thousands of short rows, where subarray + set would allocate a view per row
      k = new Float32Array(dh * C * L)
      for (let row = 0, src = 0, dst = 0; row < dh * C; row++, src += Tmax) for (let t = 0; t < L; t++) k[dst++] = this.k[src + t]!
    }
    return { k: tf.tensor3d(k, [dh, C, L]), v: tf.tensor3d(this.v.subarray(0, L * C * dh), [L, C, dh]) }
  }
}
