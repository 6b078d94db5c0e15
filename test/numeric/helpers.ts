/** Shared fixtures for the numeric tests: a tiny model config and a seeded toy batch. */
import { Rng } from "../../src/core/Rng.ts"
import type { ModelConfig } from "../../src/numeric/index.ts"

export const tinyCfg: ModelConfig = { vocabSize: 24, contextLength: 32, dModel: 16, nLayers: 2, nHeads: 2, dMlp: 32 }

/** A learnable toy batch: each row counts up modulo V from a random start. Returns tokens and weights. */
export const toyBatch = (cfg: ModelConfig, B: number, T: number, seed: number): { tokens: Int32Array; weights: Float32Array } => {
  const r = Rng.root(seed)
  const tokens = new Int32Array(B * T)
  for (let b = 0; b < B; b++) {
    const s = r.below(cfg.vocabSize)
    for (let t = 0; t < T; t++) tokens[b * T + t] = (s + t) % cfg.vocabSize
  }
  return { tokens, weights: new Float32Array(B * T).fill(1) }
}

export const randomSeq = (r: Rng, n: number, V: number): Array<number> => Array.from({ length: n }, () => r.below(V))
