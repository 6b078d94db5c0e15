/**
 * Forward pass of the policy: a causal pre-LN transformer LM.
 *
 *   h0 = tokEmb[tokens] + posEmb[0..T)
 *   per layer: h += Attn(LN1(h)); h += MLP(LN2(h))      (MLP = relu(h W1 + b1) W2 + b2)
 *   logits = LNf(h) Whead + bhead
 *
 * Padding convention: **right padding**. Every row starts at position 0, so a row's real tokens sit at
 * positions 0..len-1 and whatever follows (PAD tokens) can never influence them through the causal
 * mask; callers read logits at positions < len only and mask their losses the same way. No key mask
 * is needed. Tensors returned here belong to the caller's tidy / gradient scope.
 */
import { NumericInputError } from "../errors.ts"
import { tf } from "../tf.ts"
import { type ModelConfig, headDim } from "./config.ts"
import { selfAttention } from "./attention.ts"
import { addBias, embed, layerNorm, mm } from "./ops.ts"
import { recomputed } from "./recompute.ts"
import type { Params } from "./params.ts"

const NEG = -1e9

export const param = (params: Params, name: string): tf.Variable => {
  const v = params[name]
  if (v === undefined) throw new NumericInputError("forward", `missing parameter ${name}`)
  return v
}

/** Additive causal mask [T, 1, T] (query, channel, key): 0 where key <= query, -1e9 above. */
export const causalBias = (T: number): tf.Tensor3D =>
  tf.tidy(() => tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)).mul(NEG).reshape([T, 1, T]) as tf.Tensor3D)

/** Keys and values of one layer, in attention.ts layouts: k [dh, C, T], v [T, C, dh] (C = B * H). */
export interface LayerKV {
  readonly k: tf.Tensor3D
  readonly v: tf.Tensor3D
}

/**
 * q, k, v [N, d] from x [N, d] and the fused wqkv [d, 3d], bqkv [3d]: three matmuls on column slices
 * of the (small) weight, because tf.split of the [N, 3d] product is slow on wasm.
 */
export const projectQkv = (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D] => {
  const d = x.shape[1]
  const part = (i: number) => addBias(mm(x, w.slice([0, i * d], [d, d])), b.slice([i * d], [d]))
  return [part(0), part(1), part(2)]
}

/** The parameters of block i, by their name within the block (`l<i>.` + name). */
const BLOCK_PARAMS = ["ln1.g", "ln1.b", "attn.wqkv", "attn.bqkv", "attn.wo", "attn.bo", "ln2.g", "ln2.b", "mlp.w1", "mlp.b1", "mlp.w2", "mlp.b2"] as const
type BlockParam = (typeof BLOCK_PARAMS)[number]

/** One transformer block on the flattened residual stream h [B*T, d]; `kv` collects its keys/values. */
const block = (
  p: (name: BlockParam) => tf.Tensor,
  cfg: ModelConfig,
  h: tf.Tensor2D,
  B: number,
  T: number,
  bias: tf.Tensor3D,
  kv?: Array<LayerKV>
): tf.Tensor2D => {
  const H = cfg.nHeads
  const dh = headDim(cfg)
  const attention = (): tf.Tensor2D => {
    const x = layerNorm(h, p("ln1.g") as tf.Tensor1D, p("ln1.b") as tf.Tensor1D)
    const [q2, k2, v2] = projectQkv(x, p("attn.wqkv") as tf.Tensor2D, p("attn.bqkv") as tf.Tensor1D) // [B*T, d] each
    // scale q (small) rather than the [T, C, T] scores
    const y = selfAttention(q2.mul(1 / Math.sqrt(dh)) as tf.Tensor2D, k2, v2, bias, { B, T, H, dh }, kv) // [B*T, d]
    return addBias(mm(y, p("attn.wo") as tf.Tensor2D), p("attn.bo") as tf.Tensor1D)
  }
  const mlp = (x2: tf.Tensor2D): tf.Tensor2D => {
    const u = tf.relu(addBias(mm(x2, p("mlp.w1") as tf.Tensor2D), p("mlp.b1") as tf.Tensor1D)) as tf.Tensor2D // [B*T, dMlp]
    return addBias(mm(u, p("mlp.w2") as tf.Tensor2D), p("mlp.b2") as tf.Tensor1D)
  }
  // Attention and MLP each in a tidy: what their gradients do not keep (the [T, C, T] scores, the [B*T, dMlp]
  // product) is freed before the other runs, which lowers the update's high-water mark. `kv`'s tensors must outlive it.
  const h1 = h.add(kv === undefined ? tf.tidy(attention) : attention()) as tf.Tensor2D
  return h1.add(tf.tidy(() => mlp(layerNorm(h1, p("ln2.g") as tf.Tensor1D, p("ln2.b") as tf.Tensor1D))))
}

/** Block i as a function of its input and its weights (in BLOCK_PARAMS order), activations recomputed in the backward. */
const recomputedBlock = (cfg: ModelConfig, B: number, T: number, bias: tf.Tensor3D) =>
  recomputed((h: tf.Tensor2D, weights: ReadonlyArray<tf.Tensor>, [mask]: ReadonlyArray<tf.Tensor>) =>
    block((name) => weights[BLOCK_PARAMS.indexOf(name)]!, cfg, h, B, T, mask as tf.Tensor3D), [bias])

/** Forward options. */
export interface ForwardOptions {
  /**
   * Keep no block's activations for the backward pass: recompute them there (recompute.ts). Same bits,
   * less memory (the update's wasm heap high-water mark), one more forward of the blocks per update.
   */
  readonly recompute?: boolean
}

const checkTokens = (cfg: ModelConfig, tokens: tf.Tensor2D): void => {
  if (tokens.rank !== 2) throw new NumericInputError("forward", `tokens must be [B, T], got rank ${tokens.rank}`)
  if (tokens.dtype !== "int32") throw new NumericInputError("forward", `tokens must be int32, got ${tokens.dtype}`)
  const T = tokens.shape[1]
  if (T < 1 || T > cfg.contextLength) throw new NumericInputError("forward", `T=${T} outside [1, ${cfg.contextLength}]`)
}

/** Final hidden state after LNf, flattened: [B*T, d]. `kv`, when given, receives each layer's keys/values. */
export const hiddenStates = (params: Params, cfg: ModelConfig, tokens: tf.Tensor2D, kv?: Array<LayerKV>, options: ForwardOptions = {}): tf.Tensor2D => {
  checkTokens(cfg, tokens)
  const [B, T] = tokens.shape
  // The embedding, each block and the head in a tidy of their own: what a gradient needs is kept by the tape
  // (its saved tensors), the rest (the one-hot rows, pre-bias products, a block's residual sums) is freed when
  // the stage ends instead of when the caller's scope does, which lowers the update's high-water mark.
  let h = tf.tidy(() => {
    const tok = embed(tokens.reshape([B * T]) as tf.Tensor1D, param(params, "tokEmb") as tf.Tensor2D) // [B*T, d]
    const pos = param(params, "posEmb").slice([0, 0], [T, cfg.dModel]) // [T, d]
    return tok.reshape([B, T, cfg.dModel]).add(pos).reshape([B * T, cfg.dModel]) as tf.Tensor2D
  })
  const bias = causalBias(T)
  const again = options.recompute === true && kv === undefined ? recomputedBlock(cfg, B, T, bias) : null
  for (let i = 0; i < cfg.nLayers; i++) {
    const p = (name: BlockParam) => param(params, `l${i}.${name}`)
    const x = h
    if (again !== null) h = again(x, BLOCK_PARAMS.map(p))
    else if (kv !== undefined) h = block(p, cfg, x, B, T, bias, kv) // `kv`'s tensors must outlive the block
    else h = tf.tidy(() => block(p, cfg, x, B, T, bias))
  }
  return layerNorm(h, param(params, "lnf.g") as tf.Tensor1D, param(params, "lnf.b") as tf.Tensor1D)
}

/** Logits [B, T, V] for int32 tokens [B, T]. Use inside the caller's tf.tidy or gradient function. */
export const forward = (params: Params, cfg: ModelConfig, tokens: tf.Tensor2D, options: ForwardOptions = {}): tf.Tensor3D => {
  const [B, T] = tokens.shape
  const h = hiddenStates(params, cfg, tokens, undefined, options)
  return tf.tidy(() => addBias(mm(h, param(params, "head.w") as tf.Tensor2D), param(params, "head.b") as tf.Tensor1D).reshape([B, T, cfg.vocabSize]) as tf.Tensor3D)
}
