/**
 * The base a run starts from (`base: "warmup"`): the committed, calibrated warm-up checkpoint of
 * src/experiments/warmup/ (loadBase refuses a base built from another recipe), checked against the
 * run's model shape. Also the domain each base was calibrated on: the default benchmark of a domain.
 */
import { Schema } from "effect"
import type { DomainName } from "../domains/Domain.ts"
import type { DomainSpec } from "../domains/index.ts"
import { disposeParams, getWeights, type ModelConfig, type Weights } from "../numeric/index.ts"
import { loadBase } from "./warmup/base.ts"
import { RECIPES } from "./warmup/recipe.ts"

export { baseDir } from "./warmup/base.ts"

export class BaseCheckpointError extends Schema.TaggedError<BaseCheckpointError>()("BaseCheckpointError", { domain: Schema.String, problem: Schema.String }) {
  override get message(): string {
    return `base checkpoint for ${this.domain}: ${this.problem}`
  }
}

export const baseCheckpoint = (domain: DomainName, model: ModelConfig): { weights: Weights; recipeHash: string } => {
  let base
  try {
    base = loadBase(domain)
  } catch (e) {
    throw new BaseCheckpointError({ domain, problem: `${(e as Error).message} (or run with --set base=scratch)` })
  }
  try {
    const same = (Object.keys(model) as Array<keyof ModelConfig>).every((k) => base.config[k] === model[k])
    if (!same) {
      throw new BaseCheckpointError({ domain, problem: `its model ${JSON.stringify(base.config)} differs from the run's ${JSON.stringify(model)}; set model.* to match or use base=scratch` })
    }
    return { weights: getWeights(base.params), recipeHash: base.recipeHash }
  } finally {
    disposeParams(base.params)
  }
}

/** The domain knobs the base of `domain` was calibrated on ({} when there is no recipe). */
export const benchmarkDomainConfig = (domain: DomainName): NonNullable<DomainSpec["config"]> =>
  (RECIPES[domain]?.domain.config ?? {}) as NonNullable<DomainSpec["config"]>
