/**
 * Shared pieces of the losses: input checks, detaching, token picking by one-hot masks, entropy.
 *
 * Conventions used by every loss in this folder:
 * - The student's logits come as a tf.Tensor3D [B, R, V] aligned to response targets: logits[b, r] is
 *   the distribution of response token r of row b (the caller slices prompt positions away).
 * - Everything else is plain data (typed arrays, row-major), validated here with a NumericInputError.
 * - Nothing in the gradient path uses tf.gather (the wasm backend has no gradient kernel for it):
 *   tokens are picked with tf.oneHot masks built from *data*, never from tensors on the tape.
 * - "Detached" (stop-gradient) quantities are rebuilt from host data (`detach`). tfjs has no
 *   stopGradient op, and any comparison op (greater, less, ...) fed by a tensor that depends on the
 *   variables sits on the tape and makes backprop fail (those kernels have no gradient), so detaching
 *   through host memory is the one way that is both exact and safe here.
 */
import { NumericInputError } from "../errors.ts"
import { tf } from "../tf.ts"

/** Batch dimensions read from the logits: B rows, R response positions, V vocabulary entries. */
export interface Dims {
  readonly B: number
  readonly R: number
  readonly V: number
}

/** Checks that `logits` is [B, R, V] with B, R, V >= 1. */
export const dimsOf = (where: string, logits: tf.Tensor): Dims => {
  if (logits.rank !== 3) throw new NumericInputError(where, `logits must be rank 3 [B, R, V], got shape [${logits.shape}]`)
  const [B, R, V] = logits.shape as [number, number, number]
  if (B < 1 || R < 1 || V < 1) throw new NumericInputError(where, `logits must be non-empty, got shape [${logits.shape}]`)
  return { B, R, V }
}

/** Throws unless `arr.length === n`. */
export const expectLength = (where: string, name: string, arr: ArrayLike<number>, n: number): void => {
  if (arr.length !== n) throw new NumericInputError(where, `${name} must have length ${n}, got ${arr.length}`)
}

/** Throws unless `targets` are B*R tokens in [0, V) and `responseMask` is B*R zeros and ones. */
export const expectResponse = (where: string, d: Dims, targets: Int32Array, responseMask: Float32Array): void => {
  expectTokens(where, targets, d.B * d.R, d.V)
  expectLength(where, "responseMask", responseMask, d.B * d.R)
  expectBinary(where, "responseMask", responseMask)
}

/** Throws unless every entry is finite. */
export const expectFinite = (where: string, name: string, arr: ArrayLike<number>): void => {
  for (let i = 0; i < arr.length; i++) {
    if (!Number.isFinite(arr[i])) throw new NumericInputError(where, `${name}[${i}] must be finite, got ${arr[i]}`)
  }
}

/** Throws unless every entry is 0 or 1. */
export const expectBinary = (where: string, name: string, arr: ArrayLike<number>): void => {
  for (let i = 0; i < arr.length; i++) {
    if (arr[i] !== 0 && arr[i] !== 1) throw new NumericInputError(where, `${name}[${i}] must be 0 or 1, got ${arr[i]}`)
  }
}

/** Checks token ids are integers in [0, V). */
export const expectTokens = (where: string, targets: Int32Array, n: number, V: number): void => {
  expectLength(where, "targets", targets, n)
  for (let i = 0; i < n; i++) {
    const t = targets[i]!
    if (t < 0 || t >= V) throw new NumericInputError(where, `targets[${i}] = ${t} is outside [0, ${V})`)
  }
}

/** Throws unless lo <= x <= hi (and x is a number). */
export const expectRange = (where: string, name: string, x: number, lo: number, hi: number): void => {
  if (!(x >= lo && x <= hi)) throw new NumericInputError(where, `${name} must be in [${lo}, ${hi}], got ${x}`)
}

/** Throws unless x > 0 and finite. */
export const expectPositive = (where: string, name: string, x: number): void => {
  if (!(x > 0 && Number.isFinite(x))) throw new NumericInputError(where, `${name} must be a positive number, got ${x}`)
}

/** A copy of `x` with no link to the tape: a stop-gradient. Reads `x` back to host memory. */
export const detach = <T extends tf.Tensor>(x: T): T => tf.tensor(x.dataSync(), x.shape, x.dtype) as T

export { hostTidy } from "../read.ts"

/** A float32 tensor's values in host memory (read-only by convention: on cpu this may be the backing store). */
export const hostF32 = (x: tf.Tensor): Float32Array => x.dataSync() as Float32Array

/** One-hot [B, R, V] float mask of the targets (a constant). */
export const targetMask = (targets: Int32Array, d: Dims): tf.Tensor3D =>
  tf.oneHot(tf.tensor1d(targets, "int32"), d.V).reshape([d.B, d.R, d.V]).toFloat() as tf.Tensor3D

/** Sum over the last axis of `logp * mask`: picks one entry per position. [B, R, V] x [B, R, V] -> [B, R] */
export const pick = (logp: tf.Tensor3D, mask: tf.Tensor3D): tf.Tensor2D => logp.mul(mask).sum(-1) as tf.Tensor2D

/** Entropy of each position's distribution from its log-probs. [B, R, V] -> [B, R] */
export const entropyOf = (logp: tf.Tensor3D): tf.Tensor2D => logp.exp().mul(logp).sum(-1).neg() as tf.Tensor2D

/** A [B, R] constant from row-major data. */
export const mat = (data: Float32Array, d: Dims): tf.Tensor2D => tf.tensor2d(data, [d.B, d.R])

/** Sum of every entry of `x * w`, with `w` a constant weight matrix: the one aggregation primitive. */
export const weightedSum = (x: tf.Tensor2D, w: Float32Array, d: Dims): tf.Scalar => x.mul(mat(w, d)).sum() as tf.Scalar

/** Mean of `values` over positions where `mask` is 1 (0 when the mask is empty). Plain numbers. */
export const maskedMeanHost = (values: ArrayLike<number>, mask: ArrayLike<number>): number => {
  let s = 0
  let n = 0
  for (let i = 0; i < values.length; i++) {
    if (mask[i] !== 0) {
      s += values[i]! * mask[i]!
      n += mask[i]!
    }
  }
  return n > 0 ? s / n : 0
}
