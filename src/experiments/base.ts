/**
 * The committed base checkpoint a run starts from (`base: "warmup"`): the deterministic warm-up of
 * src/experiments/warmup/, stored under src/experiments/warmup/base/<domain>/. A missing base, or one
 * whose model shape differs from the run's, is a typed error naming what to do.
 */
import { Schema } from "effect"
import { existsSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { join } from "node:path"
import { loadCheckpoint, type ModelConfig, type Weights } from "../numeric/index.ts"

export class BaseCheckpointError extends Schema.TaggedError<BaseCheckpointError>()("BaseCheckpointError", { domain: Schema.String, problem: Schema.String }) {
  override get message(): string {
    return `base checkpoint for ${this.domain}: ${this.problem}`
  }
}

export const baseDir = (domain: string): string => fileURLToPath(new URL(`./warmup/base/${domain}/`, import.meta.url))

export const baseCheckpoint = (domain: string, model: ModelConfig): { weights: Weights; recipeHash: string | null; config: ModelConfig } => {
  const dir = baseDir(domain)
  if (!existsSync(join(dir, "model.json"))) {
    throw new BaseCheckpointError({ domain, problem: `no committed base at ${dir}; run with --set base=scratch, or build it: node src/experiments/warmup/build.ts --domain ${domain}` })
  }
  let ck
  try {
    ck = loadCheckpoint(dir)
  } catch (e) {
    throw new BaseCheckpointError({ domain, problem: (e as Error).message })
  }
  const same = (Object.keys(model) as Array<keyof ModelConfig>).every((k) => ck.config[k] === model[k])
  if (!same) {
    throw new BaseCheckpointError({ domain, problem: `its model ${JSON.stringify(ck.config)} differs from the run's ${JSON.stringify(model)}; set model.* to match or use base=scratch` })
  }
  const recipeFile = join(dir, "recipe.json")
  const recipeHash = existsSync(recipeFile) ? ((JSON.parse(readFileSync(recipeFile, "utf8")) as { hash?: string }).hash ?? null) : null
  return { weights: ck.weights, recipeHash, config: ck.config }
}
