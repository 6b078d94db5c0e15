import { fc, test as fcTest } from "@fast-check/vitest"
import { beforeAll, describe, expect, test } from "vitest"
import { Rng } from "../../src/core/Rng.ts"
import { attnMix, attnScores } from "../../src/numeric/model/attention.ts"
import { layerNorm, mm } from "../../src/numeric/model/ops.ts"
import {
  NumericInputError,
  cloneParams,
  configParamCount,
  defaultModelConfig,
  disposeParams,
  forward,
  getWeights,
  initBackend,
  initParams,
  paramCount,
  paramsFromWeights,
  setWeights,
  weightsHash
} from "../../src/numeric/index.ts"
import { tf } from "../../src/numeric/tf.ts"
import { tinyCfg } from "./helpers.ts"

beforeAll(async () => {
  await initBackend("wasm")
})

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => a.sub(b).abs().max().dataSync()[0]!)

describe("params", () => {
  test("default config is in the 100k-300k range and counts match", () => {
    const cfg = defaultModelConfig(128)
    const n = configParamCount(cfg)
    expect(n).toBeGreaterThan(100_000)
    expect(n).toBeLessThan(300_000)
    const p = initParams(cfg, Rng.root(0))
    expect(paramCount(p)).toBe(n)
    disposeParams(p)
  })

  test("initialisation is a function of the seed", () => {
    const a = initParams(tinyCfg, Rng.root(1))
    const b = initParams(tinyCfg, Rng.root(1))
    const c = initParams(tinyCfg, Rng.root(2))
    expect(weightsHash(a)).toBe(weightsHash(b))
    expect(weightsHash(a)).not.toBe(weightsHash(c))
    const d = cloneParams(a)
    expect(weightsHash(d)).toBe(weightsHash(a))
    setWeights(d, getWeights(c))
    expect(weightsHash(d)).toBe(weightsHash(c))
    const e = paramsFromWeights(tinyCfg, getWeights(a))
    expect(weightsHash(e)).toBe(weightsHash(a))
    for (const p of [a, b, c, d, e]) disposeParams(p)
  })

  test("bad configs and weights fail with typed errors", () => {
    expect(() => initParams({ ...tinyCfg, nHeads: 3 }, Rng.root(0))).toThrow(NumericInputError)
    expect(() => initParams({ ...tinyCfg, dModel: 0 }, Rng.root(0))).toThrow(NumericInputError)
    const a = initParams(tinyCfg, Rng.root(1))
    const w = getWeights(a)
    expect(() => setWeights(a, w.slice(1))).toThrow(NumericInputError)
    expect(() => setWeights(a, w.map((x, i) => (i === 0 ? { ...x, values: new Float32Array(3) } : x)))).toThrow(NumericInputError)
    disposeParams(a)
  })
})

describe("forward", () => {
  test("logits shape and input checks", () => {
    const p = initParams(tinyCfg, Rng.root(1))
    const shape = tf.tidy(() => forward(p, tinyCfg, tf.zeros([3, 5], "int32") as tf.Tensor2D).shape)
    expect(shape).toEqual([3, 5, tinyCfg.vocabSize])
    expect(() => tf.tidy(() => forward(p, tinyCfg, tf.zeros([1, 33], "int32") as tf.Tensor2D))).toThrow(NumericInputError)
    expect(() => tf.tidy(() => forward(p, tinyCfg, tf.zeros([1, 4], "float32") as tf.Tensor2D))).toThrow(NumericInputError)
    disposeParams(p)
  })

  fcTest.prop([fc.array(fc.nat(23), { minLength: 2, maxLength: 20 }), fc.nat(19), fc.array(fc.nat(23), { minLength: 1, maxLength: 10 })], { numRuns: 15, seed: 7 })(
    "causal: tokens after position t never change logits at or before t (right padding is safe)",
    (seq, cut0, tail) => {
      const cut = cut0 % seq.length
      const p = initParams(tinyCfg, Rng.root(5))
      const other = [...seq.slice(0, cut + 1), ...tail].slice(0, tinyCfg.contextLength)
      const T = Math.max(seq.length, other.length)
      const pad = (s: Array<number>) => [...s, ...Array(T - s.length).fill(0)]
      const [a, b] = tf.tidy(() => {
        const l = forward(p, tinyCfg, tf.tensor2d([pad(seq), pad(other)], [2, T], "int32"))
        return [l.slice([0, 0, 0], [1, cut + 1, -1]).dataSync(), l.slice([1, 0, 0], [1, cut + 1, -1]).dataSync()]
      })
      disposeParams(p)
      expect(Array.from(a!)).toEqual(Array.from(b!))
    }
  )
})

describe("custom gradients equal autodiff of the plain ops", () => {
  test("mm", () => {
    const r = Rng.root(3)
    const a = tf.tensor2d(Array.from({ length: 12 }, () => r.normal()), [3, 4])
    const b = tf.tensor2d(Array.from({ length: 20 }, () => r.normal()), [4, 5])
    const w = tf.tensor2d(Array.from({ length: 15 }, () => r.normal()), [3, 5])
    const g1 = tf.grads((x: tf.Tensor, y: tf.Tensor) => mm(x as tf.Tensor2D, y as tf.Tensor2D).mul(w).sum())([a, b])
    const g2 = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y).mul(w).sum())([a, b])
    expect(maxAbsDiff(g1[0]!, g2[0]!)).toBeLessThan(1e-5)
    expect(maxAbsDiff(g1[1]!, g2[1]!)).toBeLessThan(1e-5)
    tf.dispose([a, b, w, ...g1, ...g2])
  })

  test("layerNorm", () => {
    const r = Rng.root(4)
    const x = tf.tensor2d(Array.from({ length: 24 }, () => r.normal() * 3 + 1), [4, 6])
    const g = tf.tensor1d(Array.from({ length: 6 }, () => 1 + r.normal() * 0.1))
    const b = tf.tensor1d(Array.from({ length: 6 }, () => r.normal() * 0.1))
    const w = tf.tensor2d(Array.from({ length: 24 }, () => r.normal()), [4, 6])
    const ref = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const m = x.mean(-1, true)
      const xc = x.sub(m)
      return xc.div(xc.square().mean(-1, true).add(1e-5).sqrt()).mul(g).add(b)
    }
    expect(maxAbsDiff(layerNorm(x, g, b), ref(x, g, b))).toBeLessThan(1e-5)
    const g1 = tf.grads((x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => layerNorm(x as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D).mul(w).sum())([x, g, b])
    const g2 = tf.grads((x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => ref(x, g, b).mul(w).sum())([x, g, b])
    for (let i = 0; i < 3; i++) expect(maxAbsDiff(g1[i]!, g2[i]!)).toBeLessThan(1e-4)
    tf.dispose([x, g, b, w, ...g1, ...g2])
  })

  test("attention scores and mix (channel-last depthwise layout) against batched matMul", () => {
    const r = Rng.root(5)
    const [T, dh, C] = [5, 3, 4]
    const rand = (shape: Array<number>) => tf.tensor(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r.normal()), shape)
    const q = rand([T, dh, C]) as tf.Tensor3D // [T, dh, C]
    const k = rand([dh, C, T]) as tf.Tensor3D
    const v = rand([T, C, dh]) as tf.Tensor3D
    const w = rand([T, C, dh])
    const ours = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) =>
      attnMix(tf.softmax(attnScores(q as tf.Tensor3D, k as tf.Tensor3D)) as tf.Tensor3D, v as tf.Tensor3D).mul(w).sum()
    const ref = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => {
      const qb = q.transpose([2, 0, 1]) // [C, T, dh]
      const kb = k.transpose([1, 0, 2]) // [C, dh, T]
      const vb = v.transpose([1, 0, 2]) // [C, T, dh]
      const y = tf.matMul(tf.softmax(tf.matMul(qb, kb)), vb) // [C, T, dh]
      return y.transpose([1, 0, 2]).mul(w).sum()
    }
    expect(Math.abs(ours(q, k, v).dataSync()[0]! - ref(q, k, v).dataSync()[0]!)).toBeLessThan(1e-4)
    const g1 = tf.grads(ours)([q, k, v])
    const g2 = tf.grads(ref)([q, k, v])
    for (let i = 0; i < 3; i++) expect(maxAbsDiff(g1[i]!, g2[i]!)).toBeLessThan(1e-4)
  })
})
