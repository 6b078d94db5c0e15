/**
 * Policy network configuration: a small causal pre-LN transformer language model.
 *
 * `validateConfig` rejects configs the model cannot build (non-positive sizes, dModel not divisible by
 * nHeads), so every other function may assume a valid config.
 */
import { NumericInputError } from "../errors.ts"

export interface ModelConfig {
  /** Number of token ids; inputs must lie in [0, vocabSize). */
  readonly vocabSize: number
  /** Longest sequence (prompt + response) the model accepts: the size of the position table. */
  readonly contextLength: number
  readonly dModel: number
  readonly nLayers: number
  readonly nHeads: number
  /** Hidden width of each MLP block. */
  readonly dMlp: number
}

/** The default policy: ~125k parameters at vocabSize 128. */
export const defaultModelConfig = (vocabSize: number): ModelConfig => ({
  vocabSize,
  contextLength: 128,
  dModel: 64,
  nLayers: 2,
  nHeads: 4,
  dMlp: 256
})

const positiveInt = (x: number): boolean => Number.isInteger(x) && x > 0

export const validateConfig = (cfg: ModelConfig): ModelConfig => {
  for (const k of ["vocabSize", "contextLength", "dModel", "nLayers", "nHeads", "dMlp"] as const) {
    if (!positiveInt(cfg[k])) throw new NumericInputError("ModelConfig", `${k} must be a positive integer, got ${cfg[k]}`)
  }
  if (cfg.dModel % cfg.nHeads !== 0) {
    throw new NumericInputError("ModelConfig", `dModel (${cfg.dModel}) must be divisible by nHeads (${cfg.nHeads})`)
  }
  return cfg
}

/** Width of one attention head. */
export const headDim = (cfg: ModelConfig): number => cfg.dModel / cfg.nHeads
