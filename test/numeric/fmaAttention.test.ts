/**
 * The fma mode's attention in the row layouts (wasm/fmaAttention.ts): the same bits as the
 * channel-last path's `cbmm` products in the fma mode, value and gradients, without its transposes.
 */
import { fc, test as fcTest } from "@fast-check/vitest"
import { afterAll, beforeAll, expect, test } from "vitest"
import { Rng } from "../../src/core/Rng.ts"
import { causalBias, initBackend } from "../../src/numeric/index.ts"
import { attnMix, attnScores, fromHeads, selfAttention, toHeads } from "../../src/numeric/model/attention.ts"
import { tf } from "../../src/numeric/tf.ts"
import { fmaHeadsFit, headMix, headScores } from "../../src/numeric/wasm/fmaAttention.ts"
import { heapView } from "../../src/numeric/wasm/heapView.ts"

const bitsOf = (a: Float32Array): Array<number> => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length))

/** Values of mixed magnitudes and signs, so that rounding matters. */
const randomArray = (n: number, r: Rng): Float32Array => Float32Array.from({ length: n }, () => (r.float() - 0.5) * 2 ** (r.below(10) - 4))

beforeAll(async () => {
  await initBackend("wasm", { fma: true })
})
afterAll(async () => {
  await initBackend("wasm", { fma: false })
})

// positions and head widths that are multiples of 4 (the 16-wide and the 4-wide loops), odd batches and heads
const dimsArb = fc.record({
  B: fc.integer({ min: 1, max: 3 }),
  T: fc.integer({ min: 1, max: 7 }).map((t) => 4 * t),
  H: fc.integer({ min: 1, max: 3 }),
  dh: fc.integer({ min: 1, max: 9 }).map((e) => 4 * e),
  seed: fc.nat(10_000)
})

fcTest.prop([dimsArb], { numRuns: 30, seed: 71 })("the products are the channel-last cbmm's, bit for bit", ({ B, T, H, dh, seed }) => {
  const r = Rng.root(seed)
  const d = H * dh
  const g = { B, T, H, dh }
  const [q, k, v, dy] = [0, 1, 2, 3].map(() => tf.tensor2d(randomArray(B * T * d, r), [B * T, d]))
  const p = tf.tensor3d(randomArray(B * H * T * T, r), [B * H, T, T]) // head-major [C, T, T]
  const pChannelLast = p.transpose([1, 0, 2]) as tf.Tensor3D // [T, C, T]
  const heads = toHeads(q!, k!, v!, B, T, H, dh) // [T, dh, C], [dh, C, T], [T, C, dh]
  // scores q k^T and the output p v
  const scores = headScores(heapView(q!), heapView(k!), g).slice()
  expect(bitsOf(scores)).toEqual(bitsOf(attnScores(heads.q, heads.k).transpose([1, 0, 2]).dataSync() as Float32Array))
  const mixed = headMix(heapView(p), heapView(v!), g, false).slice()
  expect(bitsOf(mixed)).toEqual(bitsOf(fromHeads(attnMix(pChannelLast, heads.v), B, T, H, dh).dataSync() as Float32Array))
  // the transposed form: out(b, j, h, e) = sum_i p[c, i, j] y(b, i, h, e), against a float64 sum
  const mixedT = headMix(heapView(p), heapView(dy!), g, true).slice()
  const [pv, yv] = [p.dataSync(), dy!.dataSync()]
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let j = 0; j < T; j++) {
        for (let e = 0; e < dh; e++) {
          let s = 0
          let scale = 0
          for (let i = 0; i < T; i++) {
            const t = pv[((b * H + h) * T + i) * T + j]! * yv[(b * T + i) * d + h * dh + e]!
            s += t
            scale += Math.abs(t)
          }
          expect(Math.abs(mixedT[(b * T + j) * d + h * dh + e]! - s)).toBeLessThanOrEqual(1e-5 * scale + 1e-30)
        }
      }
    }
  }
  tf.dispose([q!, k!, v!, dy!, p, pChannelLast, heads.q, heads.k, heads.v])
})

/** selfAttention's output and its gradients with respect to q, k, v; `channelLast` forces the cbmm path (asking for the keys does). */
const attention = (q: tf.Tensor2D, k: tf.Tensor2D, v: tf.Tensor2D, dy: tf.Tensor2D, g: { B: number; T: number; H: number; dh: number }, channelLast: boolean): Array<Float32Array> =>
  tf.tidy(() => {
    const bias = causalBias(g.T)
    const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
      selfAttention(a as tf.Tensor2D, b as tf.Tensor2D, c as tf.Tensor2D, bias, g, channelLast ? [] : undefined)
    const value = f(q, k, v).dataSync() as Float32Array
    const grads = tf.grads(f)([q, k, v], dy).map((x) => x.dataSync() as Float32Array)
    return [value, ...grads]
  })

test("selfAttention in the fma mode: the same value and gradients as the channel-last path, without a transpose", async () => {
  const r = Rng.root(7)
  for (const g of [
    { B: 3, T: 12, H: 2, dh: 16 },
    { B: 2, T: 8, H: 4, dh: 4 },
    { B: 1, T: 20, H: 1, dh: 24 }
  ]) {
    const d = g.H * g.dh
    const [q, k, v, dy] = [0, 1, 2, 3].map(() => tf.tensor2d(randomArray(g.B * g.T * d, r), [g.B * g.T, d]))
    const rows = attention(q!, k!, v!, dy!, g, false)
    const channelLast = attention(q!, k!, v!, dy!, g, true)
    for (let i = 0; i < 4; i++) expect(bitsOf(rows[i]!)).toEqual(bitsOf(channelLast[i]!))
    // the row path runs no transpose, forward or backward; the channel-last path does
    const kernels = async (channelLast: boolean) => (await tf.profile(() => void attention(q!, k!, v!, dy!, g, channelLast))).kernelNames
    expect(await kernels(false)).not.toContain("Transpose")
    expect(await kernels(true)).toContain("Transpose")
    tf.dispose([q!, k!, v!, dy!])
  }
})

test("sizes the row products do not take fall back to the channel-last path", () => {
  expect([fmaHeadsFit(12, 16), fmaHeadsFit(10, 16), fmaHeadsFit(12, 6), fmaHeadsFit(0, 4)]).toEqual([true, false, false, false])
  const r = Rng.root(8)
  const g = { B: 2, T: 10, H: 2, dh: 6 }
  const [q, k, v, dy] = [0, 1, 2, 3].map(() => tf.tensor2d(randomArray(g.B * g.T * 12, r), [g.B * g.T, 12]))
  const rows = attention(q!, k!, v!, dy!, g, false)
  const channelLast = attention(q!, k!, v!, dy!, g, true)
  for (let i = 0; i < 4; i++) expect(bitsOf(rows[i]!)).toEqual(bitsOf(channelLast[i]!))
  tf.dispose([q!, k!, v!, dy!])
})
