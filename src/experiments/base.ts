/**
 * The base a run starts from (`base: "warmup"`): the committed, calibrated warm-up checkpoint of
 * src/experiments/warmup/ (loadBase refuses a base built from another recipe), checked against the
 * run's model shape. Also the domain each base was calibrated on: the default benchmark of a domain.
 */
import { Schema } from "effect"
import type { DomainName } from "../domains/Domain.ts"
import type { DomainSpec } from "../domains/index.ts"
import { disposeParams, getWeights, type ModelConfig, type Weights } from "../numeric/index.ts"
import { bootstrappedRecipe, derivedBaseDir, derivedRecipe, loadBase } from "./warmup/base.ts"
import { RECIPES } from "./warmup/recipe.ts"

export { baseDir } from "./warmup/base.ts"

export class BaseCheckpointError extends Schema.TaggedError<BaseCheckpointError>()("BaseCheckpointError", { domain: Schema.String, problem: Schema.String }) {
  override get message(): string {
    return `base checkpoint for ${this.domain}: ${this.problem}`
  }
}

const sameModel = (a: ModelConfig, b: ModelConfig): boolean => (Object.keys(b) as Array<keyof ModelConfig>).every((k) => a[k] === b[k])

export type BaseKind = "warmup" | "bootstrapped"

/**
 * The run's base: the committed one when the run has its model shape, else the derived base of the run's
 * shape (warmup/base.ts `derivedRecipe`: the same recipe with the run's model); for `bootstrapped`, the
 * bootstrapped base of the run's shape (warmup/base.ts `bootstrappedRecipe`). A derived or bootstrapped
 * base must have been built (the error says how).
 */
export const baseCheckpoint = (domain: DomainName, model: ModelConfig, kind: BaseKind = "warmup"): { weights: Weights; recipeHash: string } => {
  const committed = RECIPES[domain]
  const derived = committed !== undefined && (kind === "bootstrapped" || !sameModel(committed.model, model))
  const recipe = !derived ? committed : kind === "bootstrapped" ? bootstrappedRecipe(domain, model)! : derivedRecipe(domain, model)!
  let base
  try {
    base = derived ? loadBase(domain, derivedBaseDir(domain, recipe!), recipe) : loadBase(domain)
  } catch (e) {
    const flags = (): string => `${kind === "bootstrapped" ? " --bootstrapped" : ""}${sameModel(committed!.model, model) ? "" : ` --model '${JSON.stringify(model)}'`}`
    const problem = derived
      ? `${kind === "bootstrapped" ? "the bootstrapped base" : "the committed base has another model shape, and this run's shape " + JSON.stringify(model)} ` +
        `has no base built in ${derivedBaseDir(domain, recipe!)} (${(e as Error).message}); build it with: ` +
        `node src/experiments/warmup/build.ts --domain ${domain}${flags()} (or run with --set base=scratch)`
      : `${(e as Error).message} (or run with --set base=scratch)`
    throw new BaseCheckpointError({ domain, problem })
  }
  try {
    if (!sameModel(base.config, model)) {
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
