/**
 * Batched autoregressive sampling with a KV cache.
 *
 * Prefill runs the model once on the right-padded prompts [B, P] and keeps every layer's keys and
 * values (attention.ts layouts, C = B * H channels) in caches of capacity Tmax >= P + maxNewTokens
 * (P and Tmax rounded up to multiples of 8, see rows.ts `alignLength`).
 * Each decode step feeds one token per row at that row's own position p_b, writes its key/value at
 * p_b in the host-side cache (hostCache.ts), and attends to keys 0..p_b only (logit -1e9 beyond,
 * whose softmax weight is exactly 0).
 *
 * Where the fused decode step runs (fusedDecode.ts: the single-threaded wasm backend), the steps run
 * in its kernels instead of tfjs ops, and the prompts go through it too, one position per step
 * (`decodePrompts`), instead of the prefill; both give the same bits as the ops (tested), and at the
 * reference size a sampling call takes about half the time.
 *
 * Batch independence: every row draws only from its own Rng; channels never mix in the attention
 * (prefill convolutions, host-side decode sums), matmul rows are computed independently, and the
 * extra masked / padded key slots of a larger batch add exact zeros at the end of each sum (with
 * lengths aligned to 8). So a row yields the same tokens and log-probs alone or inside any batch
 * (tested on wasm; see README for the argument and its limits).
 *
 * Memory: rows are sampled in chunks of `batchSize` (default 32). By batch independence a chunk's rows
 * come out bit-identical to the whole batch's, and the peak of the wasm heaps (which never shrink: the
 * prefill's attention tensors and the decode caches grow with B) stays that of one chunk: a full-split
 * evaluation samples ~2,000 rows at once, which unchunked took the process to ~3 GB resident.
 */
import type { ModelConfig } from "../model/config.ts"
import { headDim } from "../model/config.ts"
import { type LayerKV, hiddenStates, param } from "../model/forward.ts"
import { layerNormValue } from "../model/ops.ts"
import type { Params } from "../model/params.ts"
import { readTidy } from "../read.ts"
import { tf } from "../tf.ts"
import { fmaEnabled } from "../fmaMode.ts"
import { decodeArena } from "../wasm/decodeKernels.ts"
import type { Arena } from "../wasm/kernelModule.ts"
import { DecodeAttention, type Softmax } from "./decodeAttention.ts"
import { FusedDecoder } from "./fusedDecode.ts"
import { HostEmbedding, HostKV } from "./hostCache.ts"
import { pickToken } from "./pick.ts"
import { type SampleOptions, type SampleResult, type SampleRow, RowState, alignLength, checkRows, padRight } from "./rows.ts"

/** Logits [B, V] from final hidden states [B, d]. */
const head = (params: Params, h: tf.Tensor2D): tf.Tensor2D =>
  tf.matMul(h, param(params, "head.w") as tf.Tensor2D).add(param(params, "head.b")) as tf.Tensor2D

/**
 * One decode step of layer i for h [B, d]: writes the step's key and value into the host cache at
 * each row's position, then attends over the first L positions (host-side dot products, the softmax
 * as a kernel; see decodeAttention.ts for why the values equal the attention convolutions').
 */
const decodeLayer = (
  params: Params,
  cfg: ModelConfig,
  i: number,
  h: tf.Tensor2D,
  cache: HostKV,
  attention: DecodeAttention,
  pos: ReadonlyArray<number>,
  L: number
): tf.Tensor2D => {
  const p = (s: string) => param(params, `l${i}.${s}`)
  const B = h.shape[0]
  const H = cfg.nHeads
  const dh = headDim(cfg)
  const x = layerNormValue(h, p("ln1.g") as tf.Tensor1D, p("ln1.b") as tf.Tensor1D)
  const qkv = tf.matMul(x, p("attn.wqkv") as tf.Tensor2D).add(p("attn.bqkv")).dataSync() as Float32Array // [B, 3d]
  const y = tf.tensor2d(attention.run(cache, qkv, pos, H, L, 1 / Math.sqrt(dh), softmax), [B, H * dh])
  let out = h.add(tf.matMul(y, p("attn.wo") as tf.Tensor2D).add(p("attn.bo"))) as tf.Tensor2D
  const x2 = layerNormValue(out, p("ln2.g") as tf.Tensor1D, p("ln2.b") as tf.Tensor1D)
  const u = tf.relu(tf.matMul(x2, p("mlp.w1") as tf.Tensor2D).add(p("mlp.b1"))) as tf.Tensor2D
  out = out.add(tf.matMul(u, p("mlp.w2") as tf.Tensor2D).add(p("mlp.b2"))) as tf.Tensor2D
  return out
}

/** The attention's softmax as a tfjs kernel (its bits are the tensor path's); disposes what it makes, inside a tidy or not. */
const softmax: Softmax = (logits, C, L) => {
  const s = tf.tensor3d(logits, [1, C, L])
  const p = tf.softmax(s)
  const out = p.dataSync() as Float32Array
  tf.dispose([s, p])
  return out
}

/** Rows per chunk when `opts.batchSize` is absent (see the module doc, "Memory"). */
export const SAMPLE_BATCH_DEFAULT = 32

/**
 * How decode steps run: "auto" in the fused kernels where they can run (fusedDecode.ts: the
 * single-threaded wasm backend), else through tfjs ops; "tensor" always through tfjs ops (the
 * reference the fused path is tested against: the same bits).
 */
export type DecodePath = "auto" | "tensor"

/** Samples up to maxNewTokens per row with a KV cache, in chunks of rows. See the module doc for guarantees. */
export const sample = (params: Params, cfg: ModelConfig, rows: ReadonlyArray<SampleRow>, opts: SampleOptions): Array<SampleResult> =>
  sampleWith(params, cfg, rows, opts, "auto")

/** `sample` with the decode path chosen (see DecodePath). */
export const sampleWith = (params: Params, cfg: ModelConfig, rows: ReadonlyArray<SampleRow>, opts: SampleOptions, path: DecodePath): Array<SampleResult> => {
  checkRows(cfg, rows, opts)
  const size = opts.batchSize ?? SAMPLE_BATCH_DEFAULT
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`sample: batchSize must be a positive integer, got ${size}`)
  const out: Array<SampleResult> = []
  const fused = path === "auto" && rows.length > 0 ? FusedDecoder.open(params, cfg, Math.min(size, rows.length)) : undefined
  try {
    for (let i = 0; i < rows.length; i += size) out.push(...sampleChunk(params, cfg, rows.slice(i, i + size), opts, fused))
  } finally {
    fused?.close()
  }
  return out
}

/** One chunk's sampling state: its rows, their caches' room and the attention's scratch, and the token picker. */
interface Chunk {
  readonly params: Params
  readonly cfg: ModelConfig
  readonly rows: ReadonlyArray<SampleRow>
  readonly opts: SampleOptions
  readonly states: ReadonlyArray<RowState>
  readonly arena: Arena
  readonly attention: DecodeAttention
  /** Cache capacity (a multiple of 8). */
  readonly Tmax: number
  /** Picks the next token of every row still sampling for which `picking(b)` holds (pad for the others). */
  readonly pickAll: (logits: Float32Array, picking?: (b: number) => boolean) => Int32Array
}

/** `fused`: the decode steps' kernels (fusedDecode.ts), or undefined for the tfjs ops (the same bits). */
const sampleChunk = (params: Params, cfg: ModelConfig, rows: ReadonlyArray<SampleRow>, opts: SampleOptions, fused: FusedDecoder | undefined): Array<SampleResult> => {
  const B = rows.length
  if (B === 0) return []
  const V = cfg.vocabSize
  const stop = new Set(opts.stopTokens ?? [])
  const states = rows.map(() => new RowState())
  // padded prompt length and cache capacity, both multiples of 8 (see alignLength)
  const P = alignLength(Math.max(...rows.map((r) => r.prompt.length)), cfg.contextLength)
  const Tmax = alignLength(P + opts.maxNewTokens, Number.POSITIVE_INFINITY)
  const pickAll = (logits: Float32Array, picking: (b: number) => boolean = () => true): Int32Array => {
    const next = new Int32Array(B).fill(opts.padToken ?? 0)
    for (let b = 0; b < B; b++) {
      const st = states[b]!
      if (st.stopped || !picking(b)) continue
      const pk = pickToken(logits, b * V, V, opts, rows[b]!.rng)
      st.push(pk, stop)
      next[b] = pk.token
    }
    return next
  }
  // the caches and the attention's scratch, in the decode kernels' memory
  const C = B * cfg.nHeads
  const dh = headDim(cfg)
  const cacheBytes = HostKV.bytes(C, dh, Tmax)
  const scratchBytes = DecodeAttention.bytes(C, dh, Tmax)
  const arena = decodeArena(cfg.nLayers * cacheBytes.bytes + scratchBytes.bytes, cfg.nLayers * cacheBytes.regions + scratchBytes.regions)
  const chunk: Chunk = { params, cfg, rows, opts, states, arena, attention: new DecodeAttention(arena, C, dh, Tmax), Tmax, pickAll }
  // the prompts through the fused step too, unless the prefill's GEMMs are the fma mode's (other bits)
  if (fused !== undefined && !fmaEnabled()) decodePrompts(chunk, fused)
  else prefillThenDecode(chunk, P, fused)
  return states.map((s) => s.result())
}

/**
 * The prompts in one forward pass (prefill: every layer's keys and values, the logits at each row's
 * last prompt token), then one decode step per token.
 */
const prefillThenDecode = ({ params, cfg, rows, opts, states, arena, attention, Tmax, pickAll }: Chunk, P: number, fused: FusedDecoder | undefined): void => {
  const B = rows.length
  const pos = rows.map((r) => r.prompt.length) // next position to write, per row
  let caches: Array<HostKV> = []
  const first = readTidy(() => {
    const kv: Array<LayerKV> = []
    const hAll = hiddenStates(params, cfg, tf.tensor2d(padRight(rows.map((r) => r.prompt), P, opts.padToken ?? 0), [B, P], "int32"), kv)
    caches = kv.map(({ k, v }) => HostKV.fromPrefill(k, v, Tmax, arena))
    const last = tf.tensor1d(Int32Array.from(pos, (n, b) => b * P + n - 1), "int32")
    return head(params, tf.gather(hAll, last) as tf.Tensor2D) // [B, V]
  })
  let next = pickAll(first)
  const emb = HostEmbedding.of(params)
  for (let step = 1; step < opts.maxNewTokens && states.some((s) => !s.stopped); step++) {
    // keys a step attends over: a multiple of 8 covering every row's position (rows.ts alignLength)
    const L = alignLength(Math.max(...pos) + 1, Number.POSITIVE_INFINITY)
    const input = emb.lookup(next, pos)
    const logits = fused !== undefined ? fused.step(input, caches, attention, pos, L) : tensorStep(params, cfg, input, caches, attention, pos, L)
    for (let b = 0; b < B; b++) pos[b]!++
    next = pickAll(logits)
  }
}

/**
 * The prompts fed through the decode step as well, one position per step for every row: row b
 * feeds its prompt token at positions t < len_b, then its own sampled tokens, and picks from the
 * logits of positions len_b - 1 on. The keys, values and logits of a prompt position are the
 * prefill's bit for bit (each row's sums run in the same order; the attention's extra masked keys
 * add exact zeros), and at the reference size the ~16 small steps of a prompt cost a third of the
 * prefill's kernels.
 */
const decodePrompts = ({ params, cfg, rows, opts, states, arena, attention, Tmax, pickAll }: Chunk, fused: FusedDecoder): void => {
  const B = rows.length
  const caches = Array.from({ length: cfg.nLayers }, () => HostKV.empty(B * cfg.nHeads, headDim(cfg), Tmax, arena))
  const emb = HostEmbedding.of(params)
  const lens = rows.map((r) => r.prompt.length)
  const end = Math.max(...lens.map((n) => n - 1 + opts.maxNewTokens)) // one past the last position fed
  const sampling = (b: number, t: number) => t >= lens[b]! - 1 && t < lens[b]! - 1 + opts.maxNewTokens
  const feed = new Int32Array(B)
  let next: Int32Array = new Int32Array(B)
  for (let t = 0; t < end && states.some((s, b) => t < lens[b]! || !s.stopped); t++) {
    for (let b = 0; b < B; b++) feed[b] = t < lens[b]! ? rows[b]!.prompt[t]! : next[b]!
    const pos = Array<number>(B).fill(t)
    const logits = fused.step(emb.lookup(feed, pos), caches, attention, pos, alignLength(t + 1, Number.POSITIVE_INFINITY))
    next = pickAll(logits, (b) => sampling(b, t))
  }
}

/** One decode step through tfjs ops (where the heap kernels of fusedDecode.ts cannot run): logits [B, V]. */
const tensorStep = (
  params: Params,
  cfg: ModelConfig,
  input: Float32Array,
  caches: ReadonlyArray<HostKV>,
  attention: DecodeAttention,
  pos: ReadonlyArray<number>,
  L: number
): Float32Array =>
  readTidy(() => {
    let h = tf.tensor2d(input, [input.length / cfg.dModel, cfg.dModel])
    for (let i = 0; i < cfg.nLayers; i++) h = decodeLayer(params, cfg, i, h, caches[i]!, attention, pos, L)
    const hf = layerNormValue(h, param(params, "lnf.g") as tf.Tensor1D, param(params, "lnf.b") as tf.Tensor1D)
    return head(params, hf) // [B, V]
  })
