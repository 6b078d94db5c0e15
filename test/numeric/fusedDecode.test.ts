/**
 * The fused decode path (sampling/fusedDecode.ts, wasm/decodeGemm.wat) against the tfjs ops it
 * replaces, bit for bit: the dense kernel against matMul + bias + relu + residual, and whole
 * sampling calls ("auto": prompts and steps in the fused kernels) against the tensor path (prefill
 * forward pass, then decode steps through tfjs ops), over model shapes the kernels block
 * differently (head sizes, widths and vocabularies that are not multiples of 4 or 8).
 */
import { fc, test as fcTest } from "@fast-check/vitest"
import { afterEach, beforeAll, describe, expect, test } from "vitest"
import { Rng } from "../../src/core/Rng.ts"
import { setFmaMode } from "../../src/numeric/fmaMode.ts"
import { type ModelConfig, disposeParams, initBackend, initParams } from "../../src/numeric/index.ts"
import type { SampleOptions } from "../../src/numeric/sampling/rows.ts"
import { sampleWith } from "../../src/numeric/sampling/sample.ts"
import { tf } from "../../src/numeric/tf.ts"
import { decodeGemm, panelFloats } from "../../src/numeric/wasm/decodeGemm.ts"
import { DirectSoftmax } from "../../src/numeric/wasm/directSoftmax.ts"
import { heapBlock } from "../../src/numeric/wasm/tfjsHeap.ts"

const bitsOf = (a: Float32Array): Array<number> => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length))

beforeAll(async () => {
  await initBackend("wasm", { threads: 1 })
})
afterEach(() => setFmaMode(false))

describe("decode GEMM (wasm/decodeGemm.wat)", () => {
  const shapeArb = fc.record({
    M: fc.integer({ min: 1, max: 11 }),
    N: fc.integer({ min: 1, max: 45 }),
    K: fc.integer({ min: 1, max: 40 }),
    relu: fc.boolean(),
    residual: fc.boolean(),
    seed: fc.nat(1000)
  })
  fcTest.prop([shapeArb], { numRuns: 60, seed: 5 })("r + relu(x @ w + bias) has the bits of tfjs's matMul, add, relu and add", ({ M, N, K, relu, residual, seed }) => {
    const r = Rng.root(seed)
    const values = (n: number) => Float32Array.from({ length: n }, () => (r.float() - 0.5) * 2 ** (r.below(12) - 6))
    const [x, w, b, res] = [tf.tensor2d(values(M * K), [M, K]), tf.tensor2d(values(K * N), [K, N]), tf.tensor1d(values(N)), tf.tensor2d(values(M * N), [M, N])]
    const expected = tf.tidy(() => {
      const t = tf.matMul(x, w).add(b)
      const a = relu ? tf.relu(t) : t
      return (residual ? res.add(a) : a).dataSync() as Float32Array
    })
    const gemm = decodeGemm()!
    const block = heapBlock((panelFloats(K, N) + M * N) * 4 + 16)!
    try {
      const wp = block.ptr
      const y = block.ptr + Math.ceil(panelFloats(K, N) / 4) * 16
      const at = (t: tf.Tensor) => (tf.backend() as unknown as { getMemoryOffset: (id: object) => number }).getMemoryOffset(t.dataId)
      gemm.pack8(K, N, at(w), wp)
      gemm.dense(M, N, K, at(x), at(w), wp, at(b), relu ? 1 : 0, residual ? at(res) : 0, y)
      expect(bitsOf(new Float32Array(block.buffer(), y, M * N))).toEqual(bitsOf(expected))
    } finally {
      block.free()
      tf.dispose([x, w, b, res])
    }
  })
})

describe("direct softmax (wasm/directSoftmax.ts)", () => {
  fcTest.prop([fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 70 }), fc.nat(1000)], { numRuns: 40, seed: 9 })(
    "has tf.softmax's bits on [C, L] rows (masked logits included), growing its tensors as needed",
    (C, L, seed) => {
      const r = Rng.root(seed)
      const logits = Float32Array.from({ length: C * L }, () => (r.below(5) === 0 ? -1e9 : (r.float() - 0.5) * 2 ** r.below(8)))
      const expected = tf.tidy(() => tf.softmax(tf.tensor2d(logits, [C, L])).dataSync() as Float32Array)
      const direct = DirectSoftmax.open()!
      try {
        direct.run(new Float32Array(3), 1, 3) // a smaller first call: the next one grows the tensors
        expect(bitsOf(direct.run(logits, C, L))).toEqual(bitsOf(expected))
      } finally {
        direct.dispose()
      }
    }
  )
})

describe("fused sampling", () => {
  const cfgArb = fc
    .record({
      dh: fc.constantFrom(2, 3, 4, 6, 8, 16),
      nHeads: fc.integer({ min: 1, max: 4 }),
      nLayers: fc.integer({ min: 1, max: 3 }),
      dMlp: fc.integer({ min: 3, max: 70 }),
      vocabSize: fc.integer({ min: 6, max: 53 })
    })
    .map(({ dh, nHeads, ...rest }): ModelConfig => ({ ...rest, nHeads, dModel: dh * nHeads, contextLength: 48 }))
  const callArb = fc.record({
    prompts: fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 9 }),
    temperature: fc.constantFrom(0, 0.8, 1),
    topK: fc.constantFrom(0, 3),
    topP: fc.constantFrom(1, 0.9),
    maxNewTokens: fc.integer({ min: 1, max: 12 }),
    stop: fc.boolean(),
    batchSize: fc.constantFrom(1, 3, 32),
    seed: fc.nat(1000)
  })

  type Call = typeof callArb extends fc.Arbitrary<infer T> ? T : never

  /** Samples with both paths and expects the same tokens and log-prob bits, and no tensor left behind. */
  const both = (cfg: ModelConfig, call: Call) => {
    const r = Rng.root(call.seed)
    const params = initParams(cfg, r.fork("params"))
    const prompts = call.prompts.map((n) => Array.from({ length: n }, () => r.below(cfg.vocabSize)))
    const rows = () => prompts.map((prompt, i) => ({ prompt, rng: Rng.root(call.seed).fork("row", i) }))
    const opts: SampleOptions = {
      temperature: call.temperature,
      topK: call.topK,
      topP: call.topP,
      maxNewTokens: call.maxNewTokens,
      batchSize: call.batchSize,
      bannedTokens: [0],
      ...(call.stop ? { stopTokens: [1, 2] } : {})
    }
    try {
      const before = tf.memory().numTensors
      const fused = sampleWith(params, cfg, rows(), opts, "auto")
      expect(tf.memory().numTensors).toBe(before)
      const tensor = sampleWith(params, cfg, rows(), opts, "tensor")
      const view = (xs: typeof fused) => xs.map((x) => ({ tokens: x.tokens, stopped: x.stopped, lp: bitsOf(x.logProbs), slp: bitsOf(x.sampleLogProbs) }))
      expect(view(fused)).toEqual(view(tensor))
    } finally {
      disposeParams(params)
    }
  }

  fcTest.prop([cfgArb, callArb], { numRuns: 40, seed: 17 })("gives the tensor path's tokens and log-prob bits (exact mode: prompts through the fused step)", (cfg, call) => both(cfg, call))

  fcTest.prop([cfgArb, callArb], { numRuns: 15, seed: 23 })("gives the tensor path's bits in the fma mode too (prefill, then fused steps)", (cfg, call) => {
    setFmaMode(true)
    both(cfg, call)
  })

  test("the smallest shapes (no full 8-column panel: d = 2, dMlp = 3, V = 6) decode through the kernel's tails", () => {
    both({ vocabSize: 6, dModel: 2, nHeads: 1, nLayers: 1, dMlp: 3, contextLength: 48 }, { prompts: [1, 5, 9], temperature: 1, topK: 0, topP: 1, maxNewTokens: 7, stop: false, batchSize: 32, seed: 3 })
  })
})
