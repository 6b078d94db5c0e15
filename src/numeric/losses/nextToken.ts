/**
 * Next-token loss: the mean negative log-likelihood of the response tokens,
 *
 *   L = -(1 / N) sum_{b, r} mask[b, r] log pi(target[b, r] | row b up to r),   N = sum mask,
 *
 * i.e. supervised fine-tuning on the given sequences (token-mean, as TRL's SFTTrainer). pmdsim uses it to
 * rehearse memory-conditioned sequences (`memory.rehearsal`, actors/orchestrator/rehearsal.ts). Tokens are
 * picked with one-hot masks (no tf.gather on the gradient path, common.ts).
 */
import { tf } from "../tf.ts"
import { dimsOf, expectResponse, pick, targetMask, weightedSum } from "./common.ts"
import { NumericInputError } from "../errors.ts"

export interface NextTokenBatch {
  readonly targets: Int32Array // [B*R]
  readonly responseMask: Float32Array // [B*R], at least one 1
}

/** Token-mean NLL of `targets` under `logits` [B, R, V] where `responseMask` is 1. @category SFT */
export const nextTokenLoss = (logits: tf.Tensor3D, batch: NextTokenBatch): tf.Scalar => {
  const where = "nextTokenLoss"
  const d = dimsOf(where, logits)
  expectResponse(where, d, batch.targets, batch.responseMask)
  const n = batch.responseMask.reduce((a, m) => a + m, 0)
  if (n === 0) throw new NumericInputError(where, "responseMask selects no token")
  const weights = Float32Array.from(batch.responseMask, (m) => -m / n)
  return tf.tidy(() => weightedSum(pick(tf.logSoftmax(logits, -1) as tf.Tensor3D, targetMask(batch.targets, d)), weights, d))
}
