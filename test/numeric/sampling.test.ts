import { createHash } from "node:crypto"
import { fc, test as fcTest } from "@fast-check/vitest"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { Rng } from "../../src/core/Rng.ts"
import {
  NumericInputError,
  type Params,
  type SampleOptions,
  disposeParams,
  embedSequences,
  initBackend,
  initParams,
  pickToken,
  sample,
  sampleNaive,
  scoreResponses,
  topKLogProbs
} from "../../src/numeric/index.ts"
import { sortedCandidates } from "../../src/numeric/sampling/pick.ts"
import { randomSeq, tinyCfg } from "./helpers.ts"

let params: Params
beforeAll(async () => {
  await initBackend("wasm")
  params = initParams(tinyCfg, Rng.root(3))
})
afterAll(() => disposeParams(params))

const V = tinyCfg.vocabSize
const rowsOf = (prompts: Array<Array<number>>, seed: number) => prompts.map((prompt, i) => ({ prompt, rng: Rng.root(seed).fork("rollout", i) }))

const promptsArb = fc.array(fc.array(fc.nat(V - 1), { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 5 })
const optsArb = fc.record({
  temperature: fc.constantFrom(0, 0.7, 1, 1.5),
  topK: fc.constantFrom(undefined, 0, 1, 5),
  topP: fc.constantFrom(undefined, 0.5, 0.9, 1),
  maxNewTokens: fc.integer({ min: 1, max: 10 }),
  stopTokens: fc.constantFrom(undefined, [2], [2, 3])
})
const clean = (o: { temperature: number; topK: number | undefined; topP: number | undefined; maxNewTokens: number; stopTokens: ReadonlyArray<number> | undefined }): SampleOptions => ({
  temperature: o.temperature,
  maxNewTokens: o.maxNewTokens,
  bannedTokens: [0],
  ...(o.topK !== undefined ? { topK: o.topK } : {}),
  ...(o.topP !== undefined ? { topP: o.topP } : {}),
  ...(o.stopTokens !== undefined ? { stopTokens: o.stopTokens } : {})
})

describe("sample", () => {
  fcTest.prop([promptsArb, optsArb, fc.nat(1000)], { numRuns: 12, seed: 11 })("KV cache gives the naive sampler's tokens and log-probs (1e-5)", (prompts, o, seed) => {
    const opts = clean(o)
    const a = sample(params, tinyCfg, rowsOf(prompts, seed), opts)
    const b = sampleNaive(params, tinyCfg, rowsOf(prompts, seed), opts)
    a.forEach((x, i) => {
      const y = b[i]!
      expect(x.tokens).toEqual(y.tokens)
      expect(x.stopped).toBe(y.stopped)
      x.logProbs.forEach((v, j) => expect(Math.abs(v - y.logProbs[j]!)).toBeLessThan(1e-5))
      x.sampleLogProbs.forEach((v, j) => expect(Math.abs(v - y.sampleLogProbs[j]!)).toBeLessThan(1e-5))
    })
  })

  fcTest.prop([promptsArb, fc.nat(4), optsArb, fc.nat(1000)], { numRuns: 12, seed: 12 })(
    "a row's tokens and log-probs are bit-identical alone and inside any batch",
    (prompts, which, o, seed) => {
      const opts = clean(o)
      const i = which % prompts.length
      const batch = sample(params, tinyCfg, rowsOf(prompts, seed), opts)[i]!
      const alone = sample(params, tinyCfg, [{ prompt: prompts[i]!, rng: Rng.root(seed).fork("rollout", i) }], opts)[0]!
      expect(alone.tokens).toEqual(batch.tokens)
      expect(Array.from(alone.logProbs)).toEqual(Array.from(batch.logProbs))
      expect(Array.from(alone.sampleLogProbs)).toEqual(Array.from(batch.sampleLogProbs))
    }
  )

  fcTest.prop([promptsArb, fc.integer({ min: 1, max: 4 }), optsArb, fc.nat(1000)], { numRuns: 8, seed: 13 })(
    "chunked sampling (any batchSize) gives the unchunked batch's bits",
    (prompts, batchSize, o, seed) => {
      const opts = clean(o)
      const whole = sample(params, tinyCfg, rowsOf(prompts, seed), { ...opts, batchSize: prompts.length })
      const chunked = sample(params, tinyCfg, rowsOf(prompts, seed), { ...opts, batchSize })
      expect(chunked.map((x) => x.tokens)).toEqual(whole.map((x) => x.tokens))
      expect(chunked.map((x) => Array.from(x.logProbs))).toEqual(whole.map((x) => Array.from(x.logProbs)))
      expect(chunked.map((x) => Array.from(x.sampleLogProbs))).toEqual(whole.map((x) => Array.from(x.sampleLogProbs)))
    }
  )

  test("every prompt length 1..20: alone == inside a batch with longer and shorter prompts", () => {
    const r = Rng.root(8)
    const prompts = Array.from({ length: 20 }, (_, i) => randomSeq(r, i + 1, V))
    const opts: SampleOptions = { temperature: 1, maxNewTokens: 9 }
    const batch = sample(params, tinyCfg, rowsOf(prompts, 2), opts)
    prompts.forEach((p, i) => {
      const alone = sample(params, tinyCfg, [{ prompt: p, rng: Rng.root(2).fork("rollout", i) }], opts)[0]!
      expect(alone.tokens).toEqual(batch[i]!.tokens)
      expect(Array.from(alone.logProbs)).toEqual(Array.from(batch[i]!.logProbs))
    })
  })

  // Pinned bits: a change to the sampler's kernels that alters any token or log-prob bit changes every
  // run's results, so it must be deliberate (update the hash, rebuild what depends on it, say why).
  /** A hash of the tokens and log-prob bits of a fixed sampling call. */
  const pinnedHash = (p: Params, cfg: typeof tinyCfg): string => {
    const r = Rng.root(21)
    const prompts = Array.from({ length: 9 }, (_, i) => randomSeq(r, 1 + ((i * 5) % 17), V))
    const res = sample(p, cfg, rowsOf(prompts, 4), { temperature: 0.9, topP: 0.95, maxNewTokens: 12, stopTokens: [3] })
    const h = createHash("sha256")
    for (const x of res) {
      h.update(Int32Array.from(x.tokens))
      h.update(x.logProbs)
      h.update(x.sampleLogProbs)
    }
    return h.digest("hex").slice(0, 16)
  }

  test("sampler output bits are pinned (wasm)", () => {
    expect(pinnedHash(params, tinyCfg)).toBe("0a9a178c34f3e08c")
  })

  test("sampler output bits are pinned for a head size the SIMD kernels do not take (wasm, JS sums)", () => {
    // head size 6: the decode attention's JS float32 sums; the hash is the tensor path's (measured on it)
    const cfg = { ...tinyCfg, dModel: 18, nHeads: 3 }
    const p6 = initParams(cfg, Rng.root(3))
    const hash = pinnedHash(p6, cfg)
    disposeParams(p6)
    expect(hash).toBe("19a696a98608fce2")
  })

  test("stop tokens end a row, banned tokens never appear, results follow the options", () => {
    const r = Rng.root(1)
    const prompts = Array.from({ length: 6 }, () => randomSeq(r, 4, V))
    const res = sample(params, tinyCfg, rowsOf(prompts, 1), { temperature: 1.5, maxNewTokens: 20, stopTokens: [5, 6], bannedTokens: [0, 1] })
    for (const x of res) {
      expect(x.tokens.length).toBeLessThanOrEqual(20)
      expect(x.tokens.includes(0) || x.tokens.includes(1)).toBe(false)
      const stopAt = x.tokens.findIndex((t) => t === 5 || t === 6)
      expect(x.stopped).toBe(stopAt >= 0)
      if (stopAt >= 0) expect(stopAt).toBe(x.tokens.length - 1)
      else expect(x.tokens.length).toBe(20)
    }
  })

  test("inputs that do not fit fail with NumericInputError", () => {
    const rows = rowsOf([[1, 2, 3]], 0)
    expect(() => sample(params, tinyCfg, rows, { temperature: 1, maxNewTokens: 30 })).toThrow(NumericInputError)
    expect(() => sample(params, tinyCfg, rowsOf([[]], 0), { temperature: 1, maxNewTokens: 3 })).toThrow(NumericInputError)
    expect(() => sample(params, tinyCfg, rowsOf([[99]], 0), { temperature: 1, maxNewTokens: 3 })).toThrow(NumericInputError)
    expect(() => sample(params, tinyCfg, rows, { temperature: -1, maxNewTokens: 3 })).toThrow(NumericInputError)
    expect(() => sample(params, tinyCfg, rows, { temperature: 1, topP: 0, maxNewTokens: 3 })).toThrow(NumericInputError)
  })
})

describe("pickToken", () => {
  fcTest.prop([fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 4, maxLength: 12 }), fc.integer({ min: 1, max: 4 }), fc.nat(100)], { seed: 5 })(
    "top-k keeps the k most likely; q(token) >= p(token); greedy is the argmax",
    (xs, k, seed) => {
      const logits = Float32Array.from(xs)
      const n = logits.length
      const sorted = [...logits.keys()].sort((a, b) => logits[b]! - logits[a]! || a - b)
      const pk = pickToken(logits, 0, n, { temperature: 1, topK: k }, Rng.root(seed))
      expect(sorted.slice(0, k)).toContain(pk.token)
      expect(pk.sampleLogProb).toBeGreaterThanOrEqual(pk.logProb - 1e-9)
      expect(pickToken(logits, 0, n, { temperature: 0 }, Rng.root(seed)).token).toBe(sorted[0])
    }
  )
})

/** The plain statement of pickToken's arithmetic (float64, candidate order), which the scratch-reusing one must match bit for bit. */
const referencePick = (logits: Float32Array, V: number, s: { temperature: number; topK?: number; topP?: number; bannedTokens?: Array<number> }, rng: Rng) => {
  const logSoftmax = (i: number) => {
    let max = -Infinity
    for (let j = 0; j < V; j++) max = Math.max(max, logits[j]!)
    let z = 0
    for (let j = 0; j < V; j++) z += Math.exp(logits[j]! - max)
    return logits[i]! - max - Math.log(z)
  }
  const kept = sortedCandidates(logits, 0, V, new Set(s.bannedTokens ?? []))
  if (s.topK !== undefined && s.topK > 0) kept.length = Math.min(s.topK, kept.length)
  const z0 = logits[kept[0]!]! / s.temperature
  const w = kept.map((j) => Math.exp(logits[j]! / s.temperature - z0))
  let total = w.reduce((a, b) => a + b, 0)
  if (s.topP !== undefined && s.topP < 1) {
    let cum = 0
    let n = 0
    while (n < w.length) {
      cum += w[n]!
      n++
      if (cum >= s.topP * total) break
    }
    kept.length = n
    w.length = n
    total = cum
  }
  let u = rng.float() * total
  let chosen = kept.length - 1
  for (let i = 0; i < kept.length; i++) {
    u -= w[i]!
    if (u < 0) {
      chosen = i
      break
    }
  }
  return { token: kept[chosen]!, logProb: logSoftmax(kept[chosen]!), sampleLogProb: Math.log(w[chosen]! / total) }
}

describe("pickToken against its plain statement", () => {
  const logitArb = fc.oneof(fc.constantFrom(0, -0, 3, -1e9), fc.float({ min: -8, max: 8, noNaN: true }))
  fcTest.prop(
    [
      fc.array(logitArb, { minLength: 2, maxLength: 60 }),
      fc.array(fc.nat(59), { maxLength: 4 }),
      fc.constantFrom(1, 0.7, 1.5),
      fc.constantFrom(undefined, 0, 1, 4),
      fc.constantFrom(undefined, 0.5, 0.95, 1),
      fc.nat(1000)
    ],
    { numRuns: 300, seed: 13 }
  )("gives the same token, log-prob bits and random draws (banned maxima and ties included)", (values, bannedRaw, temperature, topK, topP, seed) => {
    const logits = Float32Array.from(values)
    const V = logits.length
    const bannedTokens = [...new Set(bannedRaw.filter((t) => t < V))]
    fc.pre(bannedTokens.length < V)
    const opts = { temperature, bannedTokens, ...(topK !== undefined ? { topK } : {}), ...(topP !== undefined ? { topP } : {}) }
    const [a, b] = [Rng.root(seed), Rng.root(seed)]
    const got = pickToken(logits, 0, V, opts, a)
    const want = referencePick(logits, V, opts, b)
    expect(got.token).toBe(want.token)
    expect(Object.is(got.logProb, want.logProb) && Object.is(got.sampleLogProb, want.sampleLogProb)).toBe(true)
    expect(a.float()).toBe(b.float())
  })
})

describe("scoring and embeddings", () => {
  test("scoreResponses reproduces the sampler's model log-probs and each row sums to 1", () => {
    const r = Rng.root(2)
    const prompts = Array.from({ length: 5 }, (_, i) => randomSeq(r, 2 + i, V))
    const res = sample(params, tinyCfg, rowsOf(prompts, 4), { temperature: 1, maxNewTokens: 8 })
    const scored = scoreResponses(params, tinyCfg, prompts, res.map((x) => x.tokens), { batchSize: 2 })
    scored.forEach((s, i) => {
      expect(s.logProbs.length).toBe(res[i]!.tokens.length * V)
      s.tokenLogProbs.forEach((v, j) => expect(Math.abs(v - res[i]!.logProbs[j]!)).toBeLessThan(1e-5))
      for (let j = 0; j < res[i]!.tokens.length; j++) {
        let z = 0
        for (let t = 0; t < V; t++) z += Math.exp(s.logProbs[j * V + t]!)
        expect(Math.abs(z - 1)).toBeLessThan(1e-4)
      }
    })
    const tk = topKLogProbs(scored[0]!.logProbs, V, 3)
    const n = scored[0]!.tokenLogProbs.length
    expect(tk.indices.length).toBe(n * 3)
    for (let j = 0; j < n; j++) {
      const row = scored[0]!.logProbs.subarray(j * V, (j + 1) * V)
      const max = Math.max(...row)
      expect(tk.values[j * 3]).toBe(max)
      expect(tk.values[j * 3]!).toBeGreaterThanOrEqual(tk.values[j * 3 + 1]!)
      const mass = [0, 1, 2].reduce((m, q) => m + Math.exp(tk.values[j * 3 + q]!), 0)
      expect(Math.abs(tk.tailMass[j]! + mass - 1)).toBeLessThan(1e-5)
    }
    expect(() => scoreResponses(params, tinyCfg, [[]], [[1]])).toThrow(NumericInputError)
    expect(() => topKLogProbs(new Float32Array(V), V, 0)).toThrow(NumericInputError)
  })

  // scoring chunks rows by length, so a row's chunk depends on the other rows: its bits must not
  fcTest.prop([fc.array(fc.tuple(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 10 })), { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 5 })], { numRuns: 15 })(
    "scoreResponses gives each row the same bits whatever the other rows, their order and the chunk size",
    (shapes, batchSize) => {
      const r = Rng.root(shapes.length)
      const contexts = shapes.map(([c]) => randomSeq(r, c, V))
      const responses = shapes.map(([, n]) => randomSeq(r, n, V))
      const whole = scoreResponses(params, tinyCfg, contexts, responses, { batchSize })
      const reversed = scoreResponses(params, tinyCfg, [...contexts].reverse(), [...responses].reverse(), { batchSize: batchSize + 1 }).reverse()
      shapes.forEach((_, i) => {
        const alone = scoreResponses(params, tinyCfg, [contexts[i]!], [responses[i]!])[0]!
        const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("hex")
        expect(bits(whole[i]!.logProbs)).toBe(bits(alone.logProbs))
        expect(bits(reversed[i]!.logProbs)).toBe(bits(alone.logProbs))
        expect(bits(whole[i]!.tokenLogProbs)).toBe(bits(alone.tokenLogProbs))
      })
    }
  )

  test("embedSequences: one dModel vector per sequence, independent of the batch", () => {
    const r = Rng.root(3)
    const seqs = Array.from({ length: 12 }, (_, i) => randomSeq(r, 1 + 2 * i, V))
    const all = embedSequences(params, tinyCfg, seqs)
    expect(all.map((e) => e.length)).toEqual(Array(12).fill(tinyCfg.dModel))
    seqs.forEach((s, i) => expect(Array.from(embedSequences(params, tinyCfg, [s])[0]!)).toEqual(Array.from(all[i]!)))
    expect(all[0]).not.toEqual(all[1])
  })
})

describe("sortedCandidates", () => {
  const logitArb = fc.oneof(fc.constantFrom(0, -0, 1, -1, 2.5, -1e9), fc.float({ noNaN: true, noDefaultInfinity: true }))
  fcTest.prop([fc.array(logitArb, { minLength: 1, maxLength: 40 }), fc.array(fc.nat(39), { maxLength: 5 })], { numRuns: 300, seed: 7 })(
    "is the comparator sort by logit descending, then id ascending (ties, -0 and +0 included)",
    (values, bannedRaw) => {
      const logits = Float32Array.from(values)
      const V = logits.length
      const banned = new Set(bannedRaw.filter((t) => t < V))
      fc.pre(banned.size < V)
      const expected = [...Array(V).keys()].filter((j) => !banned.has(j)).sort((a, b) => logits[b]! - logits[a]! || a - b)
      expect(sortedCandidates(logits, 0, V, banned)).toEqual(expected)
    }
  )
})
