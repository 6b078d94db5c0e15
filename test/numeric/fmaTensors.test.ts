/**
 * The fma GEMMs on tensors (wasm/fmaTensors.ts): run in the tfjs heap (single-threaded wasm build,
 * sizes on the tile) or through the copying kernels, the same bits as the copying kernels.
 */
import { fc, test as fcTest } from "@fast-check/vitest"
import { beforeAll, expect, test } from "vitest"
import { Rng } from "../../src/core/Rng.ts"
import { initBackend } from "../../src/numeric/index.ts"
import { tf } from "../../src/numeric/tf.ts"
import { fmaProduct, fmaProductTransposed, fmaTransposedProduct } from "../../src/numeric/wasm/fmaKernels.ts"
import { fmaHeapKernels, fmaMatMul, fmaMatMulTransposed, fmaTransposedMatMul } from "../../src/numeric/wasm/fmaTensors.ts"

const bitsOf = (a: Float32Array): Array<number> => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length))

const randomArray = (n: number, r: Rng): Float32Array => Float32Array.from({ length: n }, () => (r.float() - 0.5) * 2 ** (r.below(12) - 4))

beforeAll(async () => {
  await initBackend("wasm", { threads: 1 })
})

test("the single-threaded backend's heap takes our kernels (else every call below took the copying path)", () => {
  expect(fmaHeapKernels()).toBeDefined()
})

// rows even and odd, columns on the 16-wide panels and off them, k across the 256-row blocks
const dimsArb = fc.record({
  M: fc.integer({ min: 1, max: 40 }),
  K: fc.integer({ min: 1, max: 300 }),
  N: fc.oneof(fc.integer({ min: 1, max: 4 }).map((n) => 16 * n), fc.integer({ min: 1, max: 40 })),
  seed: fc.nat(10_000)
})

fcTest.prop([dimsArb], { numRuns: 40, seed: 97 })("a @ b, a @ w^T and a^T @ b on tensors are the copying kernels' bits", ({ M, K, N, seed }) => {
  const r = Rng.root(seed)
  const [a, b, w, at] = [randomArray(M * K, r), randomArray(K * N, r), randomArray(N * K, r), randomArray(K * M, r)]
  const [ta, tb, tw, tat] = [tf.tensor2d(a, [M, K]), tf.tensor2d(b, [K, N]), tf.tensor2d(w, [N, K]), tf.tensor2d(at, [K, M])]
  const got = tf.tidy(() => [fmaMatMul(ta, tb), fmaMatMulTransposed(ta, tw), fmaTransposedMatMul(tat, tb)].map((x) => x.dataSync() as Float32Array))
  expect(bitsOf(got[0]!)).toEqual(bitsOf(fmaProduct(a, b, M, K, N).slice()))
  expect(bitsOf(got[1]!)).toEqual(bitsOf(fmaProductTransposed(a, w, M, K, N).slice()))
  expect(bitsOf(got[2]!)).toEqual(bitsOf(fmaTransposedProduct(at, b, K, M, N).slice()))
  tf.dispose([ta, tb, tw, tat])
})
