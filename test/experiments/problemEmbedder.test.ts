/**
 * memory.problemKey (src/experiments/problemEmbedder.ts): the default keeps the n-gram embedder itself
 * (hashes unchanged), and "base-hidden" is a fixed, order-independent function of the run's problems that
 * groups a cluster's problems better than n-grams do on the code benchmark.
 */
import { beforeAll, describe, expect, it } from "vitest"
import { defaultConfig } from "../../src/config/presets.ts"
import type { RunConfig } from "../../src/config/RunConfig.ts"
import { makeDomain } from "../../src/domains/index.ts"
import type { Embedder } from "../../src/memory/embed/hashEmbed.ts"
import { initBackend } from "../../src/numeric/index.ts"
import { contentEmbedder, problemEmbedder } from "../../src/experiments/problemEmbedder.ts"
import { domainSpec, modelConfig, problemKeys } from "../../src/experiments/setup.ts"

const withKey = (problemKey?: "ngrams" | "base-hidden"): RunConfig =>
  ({ ...defaultConfig, memory: { ...defaultConfig.memory, ...(problemKey === undefined ? {} : { problemKey }) } })

const cfg = withKey("base-hidden")
const domain = makeDomain(domainSpec(cfg))
const train = problemKeys(cfg, domain, "train")
const prompts = train.map((p) => p.query)
const clusterOf = new Map(domain.problems("train").map((p) => [p.id, p.cluster]))

const cosine = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, i) => s + x * b[i]!, 0)

/** Share of each problem's 5 nearest neighbours (cosine) that share its cluster, over every 4th problem. */
const neighbourPurity = (embed: Embedder): number => {
  const vecs = prompts.map((p) => embed(p))
  let same = 0
  let n = 0
  for (let i = 0; i < vecs.length; i += 4) {
    const near = vecs.map((v, j) => ({ j, s: j === i ? -Infinity : cosine(v, vecs[i]!) })).sort((a, b) => b.s - a.s || a.j - b.j).slice(0, 5)
    same += near.filter(({ j }) => clusterOf.get(train[j]!.id) === clusterOf.get(train[i]!.id)).length
    n += 5
  }
  return same / n
}

beforeAll(async () => {
  await initBackend("wasm")
})

describe("memory.problemKey", () => {
  it("absent or \"ngrams\": problems are embedded by the content embedder itself (so every hash is unchanged)", () => {
    const content = contentEmbedder()
    expect(problemEmbedder(withKey(), modelConfig(cfg), content, prompts)).toBe(content)
    expect(problemEmbedder(withKey("ngrams"), modelConfig(cfg), content, prompts)).toBe(content)
  })

  it("\"base-hidden\": unit vectors, the same bits whatever the order the problems are given in", () => {
    const a = problemEmbedder(cfg, modelConfig(cfg), contentEmbedder(), prompts)
    const b = problemEmbedder(cfg, modelConfig(cfg), contentEmbedder(), [...prompts].reverse())
    for (const p of prompts.slice(0, 40)) {
      expect(Buffer.from(a(p).buffer)).toEqual(Buffer.from(b(p).buffer))
      expect(Math.abs(cosine(a(p), a(p)) - 1)).toBeLessThan(1e-5)
    }
  })

  it("\"base-hidden\": a sequence that is no problem of the run is refused, not embedded differently", () => {
    const e = problemEmbedder(cfg, modelConfig(cfg), contentEmbedder(), prompts.slice(0, 3))
    expect(() => e(prompts[5]!)).toThrow(/no problem of this run/)
  })

  it("\"base-hidden\" puts more of a problem's neighbours in its own cluster than n-grams (code benchmark)", () => {
    const hidden = neighbourPurity(problemEmbedder(cfg, modelConfig(cfg), contentEmbedder(), prompts))
    const ngrams = neighbourPurity(contentEmbedder())
    // measured over all problems: 31.4% vs 10.4% (chance 5%)
    expect(hidden).toBeGreaterThan(2 * ngrams)
  })
})
