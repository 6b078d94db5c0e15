/**
 * tfjs helpers for the loss tests: value and gradient of a loss at given logits, float32 central
 * differences, closeness with float32 tolerances, and fast-check arbitraries for small batches.
 */
import { fc } from "@fast-check/vitest"
import { expect } from "vitest"
import { tf } from "../../../src/numeric/tf.ts"
import type { Shape } from "./reference.ts"

export type LossFn = (logits: tf.Tensor3D) => tf.Scalar

/** The loss and its gradient w.r.t. the logits [B*R*V], with every tensor freed afterwards. */
export const lossAndGrad = (sh: Shape, x: Float32Array, f: LossFn): { value: number; grad: Float32Array } => {
  const init = tf.tensor3d(x, [sh.B, sh.R, sh.V])
  const v = tf.variable(init) as tf.Variable<tf.Rank.R3>
  init.dispose()
  const { value, grads } = tf.variableGrads(() => f(v), [v])
  const out = { value: value.dataSync()[0]!, grad: Float32Array.from(grads[v.name]!.dataSync()) }
  value.dispose()
  tf.dispose(grads)
  v.dispose()
  return out
}

/** The loss's value at x. */
export const lossAt = (sh: Shape, x: Float32Array, f: LossFn): number =>
  tf.tidy(() => f(tf.tensor3d(x, [sh.B, sh.R, sh.V])).dataSync()[0]!)

/** Float32 central difference of the tfjs loss along coordinate i. */
export const centralDiff = (sh: Shape, x: Float32Array, f: LossFn, i: number, h: number): number => {
  const up = Float32Array.from(x)
  const down = Float32Array.from(x)
  up[i] = x[i]! + h
  down[i] = x[i]! - h
  return (lossAt(sh, up, f) - lossAt(sh, down, f)) / (up[i]! - down[i]!)
}

/** |a - b| <= atol + rtol * max(|a|, |b|), with a readable failure. */
export const expectClose = (a: number, b: number, atol: number, rtol: number, what = ""): void => {
  const ok = Math.abs(a - b) <= atol + rtol * Math.max(Math.abs(a), Math.abs(b))
  if (!ok) expect.fail(`${what}: ${a} vs ${b} (diff ${Math.abs(a - b)})`)
}

export const expectAllClose = (a: ArrayLike<number>, b: ArrayLike<number>, atol: number, rtol: number, what = ""): void => {
  expect(a.length).toBe(b.length)
  for (let i = 0; i < a.length; i++) expectClose(a[i]!, b[i]!, atol, rtol, `${what}[${i}]`)
}

/** Small batch shapes. */
export const shapeArb = (maxB = 3, maxR = 3, minV = 2, maxV = 6): fc.Arbitrary<Shape> =>
  fc.record({ B: fc.integer({ min: 1, max: maxB }), R: fc.integer({ min: 1, max: maxR }), V: fc.integer({ min: minV, max: maxV }) })

/**
 * n float32 numbers spread evenly over [lo, hi] (fc.double would pick uniformly among representable
 * doubles, i.e. mostly values near 0).
 */
export const f32s = (n: number, lo: number, hi: number): fc.Arbitrary<Float32Array> =>
  fc
    .array(fc.integer({ min: 0, max: 1 << 20 }), { minLength: n, maxLength: n })
    .map((xs) => Float32Array.from(xs, (k) => lo + ((hi - lo) * k) / (1 << 20)))

export const tokens = (n: number, V: number): fc.Arbitrary<Int32Array> =>
  fc.array(fc.integer({ min: 0, max: V - 1 }), { minLength: n, maxLength: n }).map((xs) => Int32Array.from(xs))

export const bits = (n: number): fc.Arbitrary<Float32Array> =>
  fc.array(fc.constantFrom(0, 1), { minLength: n, maxLength: n }).map((xs) => Float32Array.from(xs))

/** log-probs of each target under float32 logits, computed in float64 then rounded. */
export const targetLogp = (x: Float32Array, sh: Shape, targets: Int32Array): Float32Array => {
  const out = new Float32Array(sh.B * sh.R)
  for (let i = 0; i < sh.B * sh.R; i++) {
    const row = Array.from(x.subarray(i * sh.V, (i + 1) * sh.V))
    const m = Math.max(...row)
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0))
    out[i] = row[targets[i]!]! - lse
  }
  return out
}
