/**
 * The opt-in fma mode (issue #17): its kernels against float64 sums, the mode's routing of `mm`, its
 * determinism, and the exact mode left as it was.
 */
import { fc, test as fcTest } from "@fast-check/vitest"
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { Rng } from "../../src/core/Rng.ts"
import {
  type ModelConfig,
  backendInfo,
  createAdamState,
  disposeAdamState,
  disposeParams,
  fmaEnabled,
  fmaFingerprint,
  getWeights,
  initBackend,
  initParams,
  nextTokenLoss,
  trainStep,
  weightsHash
} from "../../src/numeric/index.ts"
import { mm } from "../../src/numeric/model/ops.ts"
import { tf } from "../../src/numeric/tf.ts"
import { fmaChannelProduct, fmaChannelProductFits, fmaProduct, fmaProductTransposed, fmaTransposedProduct } from "../../src/numeric/wasm/fmaKernels.ts"
import { toyBatch } from "./helpers.ts"

const bitsOf = (a: Float32Array): Array<number> => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length))

/** Values of mixed magnitudes and signs, so that rounding matters. */
const randomArray = (n: number, r: Rng): Float32Array => Float32Array.from({ length: n }, () => (r.float() - 0.5) * 2 ** (r.below(12) - 4))

/** a [M, K] @ b [K, N] in float64, and each output's scale sum_k |a b| (the bound float32 rounding is relative to). */
const reference = (a: Float32Array, b: Float32Array, M: number, K: number, N: number): { c: Float64Array; scale: Float64Array } => {
  const c = new Float64Array(M * N)
  const scale = new Float64Array(M * N)
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0
      let t = 0
      for (let k = 0; k < K; k++) {
        s += a[m * K + k]! * b[k * N + n]!
        t += Math.abs(a[m * K + k]! * b[k * N + n]!)
      }
      c[m * N + n] = s
      scale[m * N + n] = t
    }
  }
  return { c, scale }
}

const transpose = (x: Float32Array, rows: number, cols: number): Float32Array => {
  const out = new Float32Array(rows * cols)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = x[r * cols + c]!
  return out
}

beforeAll(async () => {
  await initBackend("wasm", { fma: false })
})
afterAll(async () => {
  await initBackend("wasm", { fma: false })
})

describe("fma kernels (wasm relaxed SIMD)", () => {
  // M and N across the 2 x 16 tile (and not multiples of it), K across the 256-row blocks
  const dimsArb = fc.record({ M: fc.integer({ min: 1, max: 37 }), K: fc.integer({ min: 1, max: 300 }), N: fc.integer({ min: 1, max: 41 }), seed: fc.nat(10_000) })

  fcTest.prop([dimsArb], { numRuns: 40, seed: 53 })("a @ b, a @ w^T and a^T @ b are the float64 products within 1e-5, and the same bits as each other", ({ M, K, N, seed }) => {
    const r = Rng.root(seed)
    const a = randomArray(M * K, r)
    const b = randomArray(K * N, r)
    const { c, scale } = reference(a, b, M, K, N)
    const ab = fmaProduct(a, b, M, K, N).slice()
    const abt = fmaProductTransposed(a, transpose(b, K, N), M, K, N).slice()
    const atb = fmaTransposedProduct(transpose(a, M, K), b, K, M, N).slice()
    expect(ab.length).toBe(M * N)
    for (let i = 0; i < M * N; i++) expect(Math.abs(ab[i]! - c[i]!)).toBeLessThanOrEqual(1e-5 * scale[i]! + 1e-30)
    // one summation order (k increasing, one multiply-add per term) whatever the operands' layout
    expect(bitsOf(abt)).toEqual(bitsOf(ab))
    expect(bitsOf(atb)).toEqual(bitsOf(ab))
  })

  // any K (the exact kernel needs multiples of 8), N a multiple of 4 across the 16-wide and 4-wide loops
  const channelArb = fc.record({ M: fc.integer({ min: 1, max: 9 }), K: fc.integer({ min: 1, max: 50 }), C: fc.integer({ min: 1, max: 7 }), N: fc.integer({ min: 1, max: 13 }).map((n) => 4 * n), seed: fc.nat(10_000) })

  fcTest.prop([channelArb], { numRuns: 40, seed: 59 })("the per-channel matmul is the float64 sums within 1e-5", ({ M, K, C, N, seed }) => {
    const r = Rng.root(seed)
    const a = randomArray(M * K * C, r)
    const b = randomArray(K * C * N, r)
    expect(fmaChannelProductFits(K, N)).toBe(true)
    const out = fmaChannelProduct(a, b, M, K, C, N).slice()
    expect(out.length).toBe(M * C * N)
    for (let m = 0; m < M; m++) {
      for (let c = 0; c < C; c++) {
        for (let n = 0; n < N; n++) {
          let s = 0
          let scale = 0
          for (let k = 0; k < K; k++) {
            s += a[(m * K + k) * C + c]! * b[(k * C + c) * N + n]!
            scale += Math.abs(a[(m * K + k) * C + c]! * b[(k * C + c) * N + n]!)
          }
          expect(Math.abs(out[(m * C + c) * N + n]! - s)).toBeLessThanOrEqual(1e-5 * scale + 1e-30)
        }
      }
    }
  })

  test("the per-channel matmul leaves head sizes that are not a multiple of 4 to the exact path", () => {
    expect([fmaChannelProductFits(3, 4), fmaChannelProductFits(5, 6), fmaChannelProductFits(0, 4)]).toEqual([true, false, false])
  })

  test("the fingerprint names this machine's fma behaviour, the same on every call", () => {
    const f = fmaFingerprint()
    expect(f).toMatch(/^(fused|unfused)-[0-9a-f]{16}$/)
    expect(fmaFingerprint()).toBe(f)
    // the probe's first output, (1 + 2^-13)^2 - (1 + 2^-12), is 2^-26 only when the multiply-add is fused
    const a = new Float32Array([-(1 + 2 ** -12), 1 + 2 ** -13])
    const b = new Float32Array([1, 1 + 2 ** -13])
    expect(fmaProduct(a, b, 1, 2, 1)[0]).toBe(f.startsWith("fused") ? 2 ** -26 : 0)
  })
})

describe("the fma mode", () => {
  const cfg: ModelConfig = { vocabSize: 24, contextLength: 32, dModel: 32, nLayers: 2, nHeads: 2, dMlp: 64 }
  const B = 8
  const T = 12
  const opts = { schedule: { lr: 1e-2, warmupSteps: 0, decay: "constant" as const }, clipNorm: 1 }

  /** Weights after `steps` AdamW steps from a fixed seed, in the current mode. */
  const train = (steps: number): { hash: string; weights: Map<string, Float32Array> } => {
    const p = initParams(cfg, Rng.root(3))
    const st = createAdamState(p)
    for (let s = 0; s < steps; s++) {
      const { tokens, weights } = toyBatch(cfg, B, T, 200 + s)
      trainStep(p, st, () => nextTokenLoss(p, cfg, tokens, weights, B, T), opts)
    }
    const out = { hash: weightsHash(p), weights: new Map(getWeights(p).map((w) => [w.name, w.values])) }
    disposeAdamState(st)
    disposeParams(p)
    return out
  }

  const mmValueAndGrads = (): Array<Float32Array> => {
    const r = Rng.root(5)
    const [M, K, N] = [19, 70, 33]
    const a = tf.tensor2d(randomArray(M * K, r), [M, K])
    const b = tf.tensor2d(randomArray(K * N, r), [K, N])
    const dy = tf.tensor2d(randomArray(M * N, r), [M, N])
    const value = tf.tidy(() => mm(a, b).dataSync() as Float32Array)
    const grads = tf.tidy(() => tf.grads((x: tf.Tensor, y: tf.Tensor) => mm(x as tf.Tensor2D, y as tf.Tensor2D))([a, b], dy).map((g) => g.dataSync() as Float32Array))
    tf.dispose([a, b, dy])
    return [value, ...grads]
  }

  test("is off by default and reported by backendInfo; mm and its gradients take the fma kernels only when on", async () => {
    expect(fmaEnabled()).toBe(false)
    expect(backendInfo().fma).toBe(false)
    const exact = mmValueAndGrads()
    expect((await initBackend("wasm", { fma: true })).fma).toBe(true)
    // an initBackend without the option keeps the mode
    expect((await initBackend("wasm")).fma).toBe(true)
    const fused = mmValueAndGrads()
    await initBackend("wasm", { fma: false })
    expect(bitsOf(mmValueAndGrads()[0]!)).toEqual(bitsOf(exact[0]!))
    for (let i = 0; i < 3; i++) {
      // fused multiply-adds round once per term where XNNPACK rounds twice; unfused they are XNNPACK's sums
      if (fmaFingerprint().startsWith("fused")) expect(bitsOf(fused[i]!)).not.toEqual(bitsOf(exact[i]!))
      else expect(bitsOf(fused[i]!)).toEqual(bitsOf(exact[i]!))
      for (let j = 0; j < exact[i]!.length; j++) expect(Math.abs(fused[i]![j]! - exact[i]![j]!)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(exact[i]![j]!)))
    }
  })

  test("the cpu backend ignores it (its tfjs ops, its own bits)", async () => {
    const cpu = await initBackend("cpu", { fma: true })
    expect(cpu.fma).toBe(false)
    const [value] = mmValueAndGrads()
    await initBackend("cpu", { fma: false })
    expect(bitsOf(mmValueAndGrads()[0]!)).toEqual(bitsOf(value!))
    await initBackend("wasm", { fma: false })
  })

  test("train steps are deterministic, differ from the exact mode in bits, and agree with it within a tolerance", async () => {
    const exactBefore = train(4)
    await initBackend("wasm", { fma: true })
    const one = train(4)
    const two = train(4)
    await initBackend("wasm", { fma: false })
    expect(two.hash).toBe(one.hash)
    if (fmaFingerprint().startsWith("fused")) expect(one.hash).not.toBe(exactBefore.hash)
    // the exact mode keeps its bits after an fma excursion in the same process
    expect(train(4).hash).toBe(exactBefore.hash)
    let worst = 0
    for (const [name, w] of exactBefore.weights) {
      const f = one.weights.get(name)!
      for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(f[i]! - w[i]!))
    }
    // four AdamW steps of lr 1e-2 move weights by up to 4e-2; the two modes differ by rounding only
    // (about 2e-5 measured; Adam's normalised steps can amplify a tiny gradient's rounding, hence the margin)
    expect(worst).toBeLessThan(1e-3)
  })
})

describe("fma mode across XNNPACK thread counts", () => {
  // each thread count in its own process (the pthread pool is made once); threadsProbe.ts trains and samples
  const probe = fileURLToPath(new URL("./threadsProbe.ts", import.meta.url))
  const run = (threads: number, mode: string): { threads: number; weights: string; samples: string } =>
    JSON.parse(execFileSync(process.execPath, [probe, String(threads), mode], { encoding: "utf8", timeout: 100_000 }).trim().split("\n").pop()!)

  test("1 and 2 threads give the same weights and samples in fma mode, other weights than the exact mode", () => {
    const [one, two] = [1, 2].map((t) => run(t, "fma"))
    expect([one!.threads, two!.threads]).toEqual([1, 2])
    expect(two!.weights).toBe(one!.weights)
    expect(two!.samples).toBe(one!.samples)
    if (fmaFingerprint().startsWith("fused")) expect(run(1, "exact").weights).not.toBe(one!.weights)
  })
})
