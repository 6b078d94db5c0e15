/**
 * A decode step without tfjs ops, where the wasm heap can be imported: the LayerNorms in our
 * LayerNorm kernel, every dense layer (with its bias, ReLU and residual) in one call of the decode
 * GEMM (wasm/decodeGemm.wat), the attention in the decode kernels (decodeAttention.ts) with its
 * softmax the tfjs kernel called directly (wasm/directSoftmax.ts). The step's buffers and the packed
 * weights live in one block of the tfjs heap for the whole sampling call.
 *
 * Why: at the reference size a decode step through tfjs was ~60 small kernels, each an engine call
 * with an output allocation, for a few hundred thousand multiply-adds; the calls were most of its
 * time. Here a step is ~12 kernel calls on buffers that stay put.
 *
 * Bits: every stage computes what the op it replaces computes, in the same order (the kernels' own
 * notes say how), so the logits, and the sampled tokens, are the tfjs path's bit for bit
 * (test/numeric/fusedDecode.test.ts compares the two, and the sampler's pinned bits still hold).
 */
import type { ModelConfig } from "../model/config.ts"
import { headDim } from "../model/config.ts"
import { param } from "../model/forward.ts"
import { LAYER_NORM_EPS } from "../model/ops.ts"
import type { Params } from "../model/params.ts"
import { decodeGemm, panelFloats } from "../wasm/decodeGemm.ts"
import { lnKernels } from "../wasm/lnKernels.ts"
import { type HeapBlock, heapBlock, offsetOf } from "../wasm/tfjsHeap.ts"
import { DirectSoftmax } from "../wasm/directSoftmax.ts"
import type { DecodeAttention, Softmax } from "./decodeAttention.ts"
import type { HostKV } from "./hostCache.ts"

type Ln = NonNullable<ReturnType<typeof lnKernels>>
type Gemm = NonNullable<ReturnType<typeof decodeGemm>>

/** A weight matrix w [K, N] in the heap: where it lies, where its panels lie (in the decoder's block). */
interface Dense {
  readonly K: number
  readonly N: number
  readonly w: number
  readonly wp: number
  readonly bias: number
}

/** Heap offsets of one layer's LayerNorm parameters and its dense layers. */
interface Layer {
  readonly ln1g: number
  readonly ln1b: number
  readonly qkv: Dense
  readonly out: Dense
  readonly ln2g: number
  readonly ln2b: number
  readonly up: Dense
  readonly down: Dense
}

/** Carves 16-byte-aligned float regions off a heap block, in order. */
class Regions {
  private next: number
  constructor(start: number) {
    this.next = start
  }
  static bytes = (floats: ReadonlyArray<number>): number => floats.reduce((a, n) => a + Math.ceil(n / 4) * 16, 0)
  take(floats: number): number {
    const at = this.next
    this.next += Math.ceil(floats / 4) * 16
    return at
  }
}

export class FusedDecoder {
  private readonly block: HeapBlock
  private readonly direct: DirectSoftmax
  private readonly softmax: Softmax
  private readonly ln: Ln
  private readonly gemm: Gemm
  private readonly cfg: ModelConfig
  private readonly layers: ReadonlyArray<Layer>
  private readonly lnf: { readonly g: number; readonly b: number }
  private readonly head: Dense
  // the step's buffers: h, the LayerNorm's output and its by-products, qkv, attention output, residual, MLP hidden, logits
  private readonly h: number
  private readonly x: number
  private readonly xhat: number
  private readonly rstd: number
  private readonly qkv: number
  private readonly y: number
  private readonly h2: number
  private readonly u: number
  private readonly logits: number

  private constructor(block: HeapBlock, direct: DirectSoftmax, ln: Ln, gemm: Gemm, params: Params, cfg: ModelConfig, B: number) {
    this.block = block
    this.direct = direct
    this.softmax = (logits, C, L) => direct.run(logits, C, L)
    this.ln = ln
    this.gemm = gemm
    this.cfg = cfg
    const d = cfg.dModel
    const regions = new Regions(block.ptr)
    ;[this.h, this.x, this.xhat, this.rstd, this.qkv, this.y, this.h2, this.u, this.logits] = FusedDecoder.buffers(cfg, B).map((n) => regions.take(n)) as [
      number, number, number, number, number, number, number, number, number
    ]
    const at = (name: string) => offsetOf(param(params, name))
    const dense = (w: string, b: string, K: number, N: number): Dense => {
      const wp = regions.take(panelFloats(K, N))
      gemm.pack8(K, N, at(w), wp)
      return { K, N, w: at(w), wp, bias: at(b) }
    }
    this.layers = Array.from({ length: cfg.nLayers }, (_, i) => {
      const p = (s: string) => `l${i}.${s}`
      return {
        ln1g: at(p("ln1.g")),
        ln1b: at(p("ln1.b")),
        qkv: dense(p("attn.wqkv"), p("attn.bqkv"), d, 3 * d),
        out: dense(p("attn.wo"), p("attn.bo"), d, d),
        ln2g: at(p("ln2.g")),
        ln2b: at(p("ln2.b")),
        up: dense(p("mlp.w1"), p("mlp.b1"), d, cfg.dMlp),
        down: dense(p("mlp.w2"), p("mlp.b2"), cfg.dMlp, d)
      }
    })
    this.lnf = { g: at("lnf.g"), b: at("lnf.b") }
    this.head = dense("head.w", "head.b", d, cfg.vocabSize)
  }

  /** Floats of the step's buffers for up to B rows (see the fields). */
  private static buffers(cfg: ModelConfig, B: number): Array<number> {
    const d = cfg.dModel
    return [B * d, B * d, B * d, B, B * 3 * d, B * d, B * d, B * cfg.dMlp, B * cfg.vocabSize]
  }

  /**
   * A decoder for steps of up to B rows with these weights (packed once, here: the weights must not
   * change while it is open), or undefined where the heap kernels cannot run (the caller keeps the
   * tfjs ops). Close it after use.
   */
  static open(params: Params, cfg: ModelConfig, B: number): FusedDecoder | undefined {
    const ln = lnKernels()
    const gemm = decodeGemm()
    const direct = DirectSoftmax.open()
    if (ln === undefined || gemm === undefined || direct === undefined || B < 1) return undefined
    const d = cfg.dModel
    const panels = [[d, 3 * d], [d, d], [d, cfg.dMlp], [cfg.dMlp, d]].flatMap(([K, N]) => Array<number>(cfg.nLayers).fill(panelFloats(K!, N!)))
    const block = heapBlock(Regions.bytes([...FusedDecoder.buffers(cfg, B), ...panels, panelFloats(d, cfg.vocabSize)]))
    if (block === undefined) return undefined
    return new FusedDecoder(block, direct, ln, gemm, params, cfg, B)
  }

  close(): void {
    this.block.free()
    this.direct.dispose()
  }

  private layerNorm(B: number, from: number, g: number, b: number, to: number): void {
    this.ln.lnForward(B, this.cfg.dModel, from, g, b, 1 / this.cfg.dModel, LAYER_NORM_EPS, to, this.xhat, this.rstd)
  }

  /** y = r + relu(x @ w + bias) for B rows (r = 0: none). */
  private dense(B: number, layer: Dense, x: number, relu: boolean, r: number, y: number): void {
    this.gemm.dense(B, layer.N, layer.K, x, layer.w, layer.wp, layer.bias, relu ? 1 : 0, r, y)
  }

  private floats(offset: number, n: number): Float32Array {
    return new Float32Array(this.block.buffer(), offset, n)
  }

  /**
   * Logits [B, V] (a copy) for input rows `input` [B, d] (token plus position embeddings; B at most
   * the decoder's), writing each layer's key and value at pos[b] into `caches[i]` and attending over
   * the first L positions.
   */
  step(input: Float32Array, caches: ReadonlyArray<HostKV>, attention: DecodeAttention, pos: ReadonlyArray<number>, L: number): Float32Array {
    const { cfg } = this
    const d = cfg.dModel
    const B = input.length / d
    const H = cfg.nHeads
    const scale = 1 / Math.sqrt(headDim(cfg))
    this.floats(this.h, B * d).set(input)
    for (let i = 0; i < cfg.nLayers; i++) {
      const layer = this.layers[i]!
      this.layerNorm(B, this.h, layer.ln1g, layer.ln1b, this.x)
      this.dense(B, layer.qkv, this.x, false, 0, this.qkv)
      // `run` copies the projection into the attention kernels' memory before anything can grow the heap
      this.floats(this.y, B * d).set(attention.run(caches[i]!, this.floats(this.qkv, B * 3 * d), pos, H, L, scale, this.softmax))
      this.dense(B, layer.out, this.y, false, this.h, this.h2)
      this.layerNorm(B, this.h2, layer.ln2g, layer.ln2b, this.x)
      this.dense(B, layer.up, this.x, true, 0, this.u)
      this.dense(B, layer.down, this.u, false, this.h2, this.h)
    }
    this.layerNorm(B, this.h, this.lnf.g, this.lnf.b, this.x)
    this.dense(B, this.head, this.x, false, 0, this.logits)
    return this.floats(this.logits, B * cfg.vocabSize).slice()
  }
}
