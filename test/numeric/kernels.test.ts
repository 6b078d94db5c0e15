import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { fc, test as fcTest } from "@fast-check/vitest"
import { beforeAll, describe, expect, test } from "vitest"
import { Rng } from "../../src/core/Rng.ts"
import { MASKED, mixJs, scoresJs } from "../../src/numeric/sampling/decodeAttention.ts"
import { KERNEL_MODULES, renderBytesModule, watPath } from "../../src/numeric/wasm/buildKernels.ts"
import { compileWat } from "../../src/numeric/wasm/compileWat.ts"
import { decodeArena, decodeKernels, kernelsFit } from "../../src/numeric/wasm/decodeKernels.ts"
import { channelProduct, channelProductFits } from "../../src/numeric/wasm/attentionKernels.ts"
import { columnSums, transposedProduct } from "../../src/numeric/wasm/gradKernels.ts"
import { heapView } from "../../src/numeric/wasm/heapView.ts"
import { initBackend } from "../../src/numeric/index.ts"
import { tf } from "../../src/numeric/tf.ts"

const bitsOf = (a: Float32Array): Array<number> => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length))

/** Values of mixed magnitudes, so that float32 rounding (and its order) matters. */
const fillRandom = (a: Float32Array, r: Rng): void => {
  for (let i = 0; i < a.length; i++) a[i] = (r.float() - 0.5) * 2 ** (r.below(12) - 4)
}

test.each(KERNEL_MODULES)("the committed bytes of $file are its .wat compiled", async ({ name, file, constant, relaxedSimd, importMemory }) => {
  const committed = readFileSync(fileURLToPath(new URL(`../../src/numeric/wasm/${file}.bytes.ts`, import.meta.url)), "utf8")
  expect(committed).toBe(renderBytesModule(name, constant, await compileWat(watPath(name), { relaxedSimd, importMemory })))
})

describe("decode attention kernels (wasm SIMD)", () => {
  const shapeArb = fc.record({
    C: fc.integer({ min: 1, max: 9 }),
    dh: fc.constantFrom(4, 8, 12, 16),
    T: fc.constantFrom(8, 16, 24, 40),
    seed: fc.nat(10_000)
  })

  fcTest.prop([shapeArb], { numRuns: 60, seed: 31 })("logits and weighted sums equal the JS float32 sums bit for bit", ({ C, dh, T, seed }) => {
    const r = Rng.root(seed)
    const L = 8 * (1 + r.below(T / 8)) // a multiple of 8, at most T
    const arena = decodeArena((2 * C * dh * T + 2 * C * dh + 4 * C * L + C) * 4, 8)
    const [k, v, q, y] = [arena.floats(C * dh * T), arena.floats(C * T * dh), arena.floats(C * dh), arena.floats(C * dh)]
    const [s, p] = [arena.floats(C * L), arena.floats(C * L)]
    const n = arena.ints(C)
    for (const a of [k.view, v.view, q.view, p.view]) fillRandom(a, r)
    for (let c = 0; c < C; c++) n.view[c] = 1 + r.below(L)
    decodeKernels().scores(C, dh, T, L, q.ptr, k.ptr, n.ptr, s.ptr)
    decodeKernels().mix(C, dh, T, L, p.ptr, v.ptr, n.ptr, y.ptr)
    const sJs = new Float32Array(C * L)
    const yJs = new Float32Array(C * dh)
    scoresJs(C, dh, T, L, q.view, k.view, n.view, sJs)
    mixJs(C, dh, T, L, p.view, v.view, n.view, yJs)
    expect(bitsOf(s.view)).toEqual(bitsOf(sJs))
    expect(bitsOf(y.view)).toEqual(bitsOf(yJs))
    // masked logits, and a spot check of one sum against a plain float64 dot product
    for (let c = 0; c < C; c++) for (let j = n.view[c]!; j < L; j++) expect(s.view[c * L + j]).toBe(Math.fround(MASKED))
    let dot = 0
    let scale = 0
    for (let e = 0; e < dh; e++) {
      dot += q.view[e]! * k.view[e * T]!
      scale += Math.abs(q.view[e]! * k.view[e * T]!)
    }
    expect(Math.abs(s.view[0]! - dot)).toBeLessThanOrEqual(1e-6 * dh * scale)
  })

  test("a reservation past the current memory grows it, and the regions are zeroed and disjoint", () => {
    const big = decodeArena(8 * 2 ** 20, 2)
    const a = big.floats(2 ** 20)
    const b = big.floats(2 ** 20)
    a.view.fill(1)
    expect(b.view.every((x) => x === 0)).toBe(true)
    expect(b.ptr).toBeGreaterThanOrEqual(a.ptr + 4 * 2 ** 20)
    expect(() => big.floats(16)).toThrow(RangeError)
  })

  test("head sizes the SIMD kernels take", () => {
    expect([4, 8, 16, 64].map(kernelsFit)).toEqual([true, true, true, true])
    expect([1, 2, 6, 10].map(kernelsFit)).toEqual([false, false, false, false])
  })
})

describe("weight-gradient kernels (wasm SIMD)", () => {
  beforeAll(async () => {
    await initBackend("wasm")
  })

  // K across block boundaries (128), M and N with and without padding to the 4 x 8 tiles
  const dimsArb = fc.record({ K: fc.integer({ min: 1, max: 300 }), M: fc.integer({ min: 1, max: 70 }), N: fc.integer({ min: 1, max: 70 }), seed: fc.nat(10_000) })

  fcTest.prop([dimsArb], { numRuns: 40, seed: 41 })("x^T @ dy and column sums are tfjs-wasm's matmuls bit for bit", ({ K, M, N, seed }) => {
    const r = Rng.root(seed)
    const a = new Float32Array(K * M)
    const b = new Float32Array(K * N)
    fillRandom(a, r)
    fillRandom(b, r)
    const [ta, tb] = [tf.tensor2d(a, [K, M]), tf.tensor2d(b, [K, N])]
    const expected = tf.tidy(() => tf.matMul(ta.transpose(), tb).dataSync() as Float32Array)
    const expectedSums = tf.tidy(() => tf.matMul(tf.ones([1, K]), tb).dataSync() as Float32Array)
    expect(bitsOf(transposedProduct(heapView(ta), heapView(tb), K, M, N))).toEqual(bitsOf(expected))
    expect(bitsOf(columnSums(heapView(tb), K, N))).toEqual(bitsOf(expectedSums))
    tf.dispose([ta, tb])
  })

  const channelArb = fc.record({
    M: fc.integer({ min: 1, max: 20 }),
    K: fc.constantFrom(8, 16, 24, 48),
    C: fc.integer({ min: 1, max: 12 }),
    N: fc.constantFrom(4, 8, 16, 20, 48),
    seed: fc.nat(10_000)
  })

  fcTest.prop([channelArb], { numRuns: 40, seed: 43 })("the attention's per-channel matmul is the depthwise convolution bit for bit", ({ M, K, C, N, seed }) => {
    const r = Rng.root(seed)
    const a = new Float32Array(M * K * C)
    const b = new Float32Array(K * C * N)
    fillRandom(a, r)
    fillRandom(b, r)
    const [ta, tb] = [tf.tensor3d(a, [M, K, C]), tf.tensor3d(b, [K, C, N])]
    // the tensor path of attention.ts cbmm
    const expected = tf.tidy(() => tf.depthwiseConv2d(ta.reshape([1, M, K, C]) as tf.Tensor4D, tb.reshape([1, K, C, N]) as tf.Tensor4D, 1, "valid").dataSync() as Float32Array)
    expect(channelProductFits(K, N)).toBe(true)
    expect(bitsOf(channelProduct(heapView(ta), heapView(tb), M, K, C, N))).toEqual(bitsOf(expected))
    tf.dispose([ta, tb])
  })

  test("sizes the per-channel kernel leaves to the convolution", () => {
    expect([channelProductFits(12, 4), channelProductFits(8, 6), channelProductFits(0, 4)]).toEqual([false, false, false])
  })

  test("heapView reads a tensor's values in place", () => {
    const t = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3])
    expect(Array.from(heapView(t))).toEqual([1, 2, 3, 4, 5, 6])
    t.dispose()
  })
})
