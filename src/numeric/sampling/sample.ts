/**
 * Batched autoregressive sampling with a KV cache.
 *
 * Prefill runs the model once on the right-padded prompts [B, P] and keeps every layer's keys and
 * values (attention.ts layouts, C = B * H channels) in caches of capacity Tmax >= P + maxNewTokens
 * (P and Tmax rounded up to multiples of 8, see rows.ts `alignLength`).
 * Each decode step feeds one token per row at that row's own position p_b, writes its key/value at
 * p_b with an exact select (cache * (1 - onehot) + new * onehot), and attends to keys 0..p_b only
 * (-1e9 bias beyond, whose softmax weight is exactly 0).
 *
 * Batch independence: every row draws only from its own Rng; channels never mix in the attention
 * convolutions, matmul rows are computed independently, and the extra masked / padded key slots of a
 * larger batch add exact zeros at the end of each sum (with lengths aligned to 8). So a row yields the same tokens and
 * log-probs alone or inside any batch (tested on wasm; see README for the argument and its limits).
 */
import type { ModelConfig } from "../model/config.ts"
import { headDim } from "../model/config.ts"
import { type LayerKV, hiddenStates, param } from "../model/forward.ts"
import { cbmm } from "../model/attention.ts"
import { layerNorm, mm } from "../model/ops.ts"
import type { Params } from "../model/params.ts"
import { readTidy } from "../read.ts"
import { tf } from "../tf.ts"
import { pickToken } from "./pick.ts"
import { type SampleOptions, type SampleResult, type SampleRow, RowState, alignLength, checkRows, padRight } from "./rows.ts"

const NEG = -1e9

/** Logits [B, V] from final hidden states [B, d]. */
const head = (params: Params, h: tf.Tensor2D): tf.Tensor2D =>
  mm(h, param(params, "head.w") as tf.Tensor2D).add(param(params, "head.b")) as tf.Tensor2D

/** One decode step of layer i. h [B, d]; cache k [dh, C, Tmax], v [Tmax, C, dh]; returns new h and cache. */
const decodeLayer = (
  params: Params,
  cfg: ModelConfig,
  i: number,
  h: tf.Tensor2D,
  cache: LayerKV,
  masks: { kSel: tf.Tensor3D; kKeep: tf.Tensor3D; vSel: tf.Tensor3D; vKeep: tf.Tensor3D; bias: tf.Tensor3D }
): { h: tf.Tensor2D; cache: LayerKV } => {
  const p = (s: string) => param(params, `l${i}.${s}`)
  const B = h.shape[0]
  const H = cfg.nHeads
  const dh = headDim(cfg)
  const C = B * H
  const x = layerNorm(h, p("ln1.g") as tf.Tensor1D, p("ln1.b") as tf.Tensor1D)
  const qkv = mm(x, p("attn.wqkv") as tf.Tensor2D).add(p("attn.bqkv")) as tf.Tensor2D // [B, 3d]
  const [q2, k2, v2] = tf.split(qkv, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D]
  const q = q2.mul(1 / Math.sqrt(dh)).reshape([B, H, dh]).transpose([2, 0, 1]).reshape([1, dh, C]) as tf.Tensor3D
  const kNew = k2.reshape([B, H, dh]).transpose([2, 0, 1]).reshape([dh, C, 1])
  const vNew = v2.reshape([1, C, dh])
  const k = cache.k.mul(masks.kKeep).add(kNew.mul(masks.kSel)) as tf.Tensor3D // [dh, C, Tmax]
  const v = cache.v.mul(masks.vKeep).add(vNew.mul(masks.vSel)) as tf.Tensor3D // [Tmax, C, dh]
  const att = tf.softmax(cbmm(q, k).add(masks.bias)) as tf.Tensor3D // [1, C, Tmax]
  const y = cbmm(att.transpose([0, 2, 1]) as tf.Tensor3D, v).reshape([B, H * dh]) as tf.Tensor2D // [B, d]
  let out = h.add(mm(y, p("attn.wo") as tf.Tensor2D).add(p("attn.bo"))) as tf.Tensor2D
  const x2 = layerNorm(out, p("ln2.g") as tf.Tensor1D, p("ln2.b") as tf.Tensor1D)
  const u = tf.relu(mm(x2, p("mlp.w1") as tf.Tensor2D).add(p("mlp.b1"))) as tf.Tensor2D
  out = out.add(mm(u, p("mlp.w2") as tf.Tensor2D).add(p("mlp.b2"))) as tf.Tensor2D
  return { h: out, cache: { k, v } }
}

/** Write selectors and key bias for positions pos[b] (per row), for C = B*H channels. */
const stepMasks = (pos: ReadonlyArray<number>, H: number, Tmax: number) => {
  const C = pos.length * H
  const sel = new Float32Array(C * Tmax) // [C, Tmax]
  const bias = new Float32Array(C * Tmax)
  for (let c = 0; c < C; c++) {
    const p = pos[Math.floor(c / H)]!
    sel[c * Tmax + p] = 1
    for (let t = p + 1; t < Tmax; t++) bias[c * Tmax + t] = NEG
  }
  const kSel = tf.tensor3d(sel, [1, C, Tmax])
  const vSel = kSel.reshape([C, Tmax]).transpose().reshape([Tmax, C, 1]) as tf.Tensor3D
  return { kSel, kKeep: tf.sub(1, kSel) as tf.Tensor3D, vSel, vKeep: tf.sub(1, vSel) as tf.Tensor3D, bias: tf.tensor3d(bias, [1, C, Tmax]) }
}

/** Samples up to maxNewTokens per row with a KV cache. See the module doc for guarantees. */
export const sample = (params: Params, cfg: ModelConfig, rows: ReadonlyArray<SampleRow>, opts: SampleOptions): Array<SampleResult> => {
  checkRows(cfg, rows, opts)
  const B = rows.length
  if (B === 0) return []
  const V = cfg.vocabSize
  const stop = new Set(opts.stopTokens ?? [])
  const states = rows.map(() => new RowState())
  // padded prompt length and cache capacity, both multiples of 8 (see alignLength)
  const P = alignLength(Math.max(...rows.map((r) => r.prompt.length)), cfg.contextLength)
  const Tmax = alignLength(P + opts.maxNewTokens, Number.POSITIVE_INFINITY)
  const pos = rows.map((r) => r.prompt.length) // next position to write, per row
  const pickAll = (logits: Float32Array): Int32Array => {
    const next = new Int32Array(B).fill(opts.padToken ?? 0)
    for (let b = 0; b < B; b++) {
      const st = states[b]!
      if (st.stopped) continue
      const pk = pickToken(logits, b * V, V, opts, rows[b]!.rng)
      st.push(pk, stop)
      next[b] = pk.token
    }
    return next
  }
  // prefill: logits at each row's last prompt token, and the caches
  let caches: Array<LayerKV> = []
  const first = readTidy(() => {
    const kv: Array<LayerKV> = []
    const hAll = hiddenStates(params, cfg, tf.tensor2d(padRight(rows.map((r) => r.prompt), P, opts.padToken ?? 0), [B, P], "int32"), kv)
    caches = kv.map(({ k, v }) => ({
      k: tf.keep(tf.pad(k, [[0, 0], [0, 0], [0, Tmax - P]])),
      v: tf.keep(tf.pad(v, [[0, Tmax - P], [0, 0], [0, 0]]))
    }))
    const last = tf.tensor1d(Int32Array.from(pos, (n, b) => b * P + n - 1), "int32")
    return head(params, tf.gather(hAll, last) as tf.Tensor2D) // [B, V]
  })
  let next = pickAll(first)
  try {
    for (let step = 1; step < opts.maxNewTokens && states.some((s) => !s.stopped); step++) {
      const logits = readTidy(() => {
        const masks = stepMasks(pos, cfg.nHeads, Tmax)
        const posT = tf.tensor1d(Int32Array.from(pos), "int32")
        let h = tf.gather(param(params, "tokEmb"), tf.tensor1d(next, "int32")).add(tf.gather(param(params, "posEmb"), posT)) as tf.Tensor2D
        const fresh: Array<LayerKV> = []
        for (let i = 0; i < cfg.nLayers; i++) {
          const r = decodeLayer(params, cfg, i, h, caches[i]!, masks)
          h = r.h
          fresh.push({ k: tf.keep(r.cache.k), v: tf.keep(r.cache.v) })
        }
        for (const c of caches) tf.dispose([c.k, c.v])
        caches = fresh
        const hf = layerNorm(h, param(params, "lnf.g") as tf.Tensor1D, param(params, "lnf.b") as tf.Tensor1D)
        return head(params, hf) // [B, V]
      })
      for (let b = 0; b < B; b++) pos[b]!++
      next = pickAll(logits)
    }
  } finally {
    for (const c of caches) tf.dispose([c.k, c.v])
  }
  return states.map((s) => s.result())
}
