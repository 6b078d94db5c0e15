/**
 * Decoding state held in JS memory: the embedding tables and each layer's KV cache.
 *
 * Why on the host: a decode step writes one key and one value per channel (C = B * H channels) and
 * attends with one query per channel. Done with tensors, the write is a masked select over the whole
 * cache (three element-wise kernels per cache per layer per step, plus the masks), and each of the
 * two attention convolutions packs the cache into an XNNPACK filter before doing as many
 * multiply-adds as it packed. Here the write is C * dh stores, and the attention (decodeAttention.ts)
 * writes and reads the cache where it lies: in the memory of our wasm decode kernels
 * (wasm/decodeKernels.ts).
 */
import { param } from "../model/forward.ts"
import type { Params } from "../model/params.ts"
import { tf } from "../tf.ts"
import type { Arena, F32Region } from "../wasm/kernelModule.ts"

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
 * One layer's KV cache in the decode kernels' memory: keys [C, dh, Tmax] (a channel's keys for one
 * dimension contiguous, the layout the logits' vector loop reads four keys at a time from) and values
 * [C, Tmax, dh] (a position's value contiguous, read four dimensions at a time).
 */
export class HostKV {
  readonly dh: number
  readonly C: number
  readonly Tmax: number
  readonly k: F32Region
  readonly v: F32Region

  private constructor(dh: number, C: number, Tmax: number, k: F32Region, v: F32Region) {
    this.dh = dh
    this.C = C
    this.Tmax = Tmax
    this.k = k
    this.v = v
  }

  /** Bytes (and regions) `fromPrefill` takes from an arena. */
  static bytes(C: number, dh: number, Tmax: number): { bytes: number; regions: number } {
    return { bytes: 2 * C * dh * Tmax * 4, regions: 2 }
  }

  /** An empty cache (zeros) for C channels of head size dh and Tmax positions. */
  static empty(C: number, dh: number, Tmax: number, arena: Arena): HostKV {
    return new HostKV(dh, C, Tmax, arena.floats(C * dh * Tmax), arena.floats(C * Tmax * dh))
  }

  /** From prefill keys k [dh, C, P] and values v [P, C, dh] (attention.ts layouts), with room for Tmax >= P positions. */
  static fromPrefill(k: tf.Tensor3D, v: tf.Tensor3D, Tmax: number, arena: Arena): HostKV {
    const [dh, C, P] = k.shape
    const kd = k.dataSync() as Float32Array
    const vd = v.dataSync() as Float32Array
    const hk = arena.floats(C * dh * Tmax)
    const hv = arena.floats(C * Tmax * dh)
    for (let c = 0; c < C; c++)
      for (let e = 0; e < dh; e++) hk.view.set(kd.subarray((e * C + c) * P, (e * C + c + 1) * P), (c * dh + e) * Tmax)
    for (let t = 0; t < P; t++)
      for (let c = 0; c < C; c++) hv.view.set(vd.subarray((t * C + c) * dh, (t * C + c + 1) * dh), (c * Tmax + t) * dh)
    return new HostKV(dh, C, Tmax, hk, hv)
  }
}
