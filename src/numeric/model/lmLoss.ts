/**
 * Masked next-token cross-entropy, the supervised loss of the base-model warm-up (RL losses live in
 * src/numeric/losses/). Inputs are plain arrays; the returned scalar belongs to the caller's scope.
 */
import { NumericInputError } from "../errors.ts"
import { tf } from "../tf.ts"
import type { ModelConfig } from "./config.ts"
import { forward } from "./forward.ts"
import type { Params } from "./params.ts"

/**
 * tokens: int32 [B*T] row-major, right-padded. weights: [B*T], weight of predicting tokens[b, t+1]
 * from position t (so weights[b, T-1] is ignored). Returns sum(w * -log p) / max(sum(w), 1).
 */
export const nextTokenLoss = (params: Params, cfg: ModelConfig, tokens: Int32Array, weights: Float32Array, B: number, T: number): tf.Scalar => {
  if (tokens.length !== B * T || weights.length !== B * T) throw new NumericInputError("nextTokenLoss", `expected ${B * T} tokens and weights`)
  if (T < 2) throw new NumericInputError("nextTokenLoss", "T must be >= 2")
  const targets = new Int32Array(B * (T - 1))
  const w = new Float32Array(B * (T - 1))
  let total = 0
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T - 1; t++) {
      targets[b * (T - 1) + t] = tokens[b * T + t + 1]!
      w[b * (T - 1) + t] = weights[b * T + t]!
      total += weights[b * T + t]!
    }
  }
  const logits = forward(params, cfg, tf.tensor2d(tokens, [B, T], "int32")) // [B, T, V]
  const V = cfg.vocabSize
  const lp = tf.logSoftmax(logits.slice([0, 0, 0], [B, T - 1, V]).reshape([B * (T - 1), V])) // [N, V]
  const picked = lp.mul(tf.oneHot(tf.tensor1d(targets, "int32"), V).toFloat()).sum(1) // [N]
  return picked.mul(tf.tensor1d(w)).sum().neg().div(Math.max(total, 1)) as tf.Scalar
}
