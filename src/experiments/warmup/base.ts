/**
 * The committed base checkpoints: `src/experiments/warmup/base/<domain>/` holds the numeric checkpoint
 * (model.json, weights.bin, train-state.bin), recipe.json (the recipe, its hash, the prefix and final
 * weights hashes) and calibration.json (the measured pass rates).
 *
 * `loadBase` refuses, with a typed error, a checkpoint built from a recipe other than the one in the
 * code (recipe.ts), so a stale base is never used silently: change the recipe, rebuild with build.ts.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { homedir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import type { DomainName } from "../../domains/Domain.ts"
import { type ModelConfig, type Params, loadCheckpoint, paramsFromWeights, saveCheckpoint, weightsHash } from "../../numeric/index.ts"
import type { Calibration, CalibrateOptions } from "./calibrate.ts"
import { bootstrapStage, RECIPES, type WarmupRecipe, recipeHash } from "./recipe.ts"

/** The directory of a domain's committed base. */
export const baseDir = (domain: DomainName): string => fileURLToPath(new URL(`./base/${domain}/`, import.meta.url))

/**
 * A base for another model shape: the domain's recipe with the run's model in place of the committed one
 * (everything else the same). It is not committed (a wider model's build takes tens of minutes); build.ts
 * `--model` builds it into the derived-bases directory, named by the derived recipe's hash, where a run
 * of that shape finds it. The build is deterministic, so the same hash means the same weights everywhere.
 */
export const derivedRecipe = (domain: DomainName, model: ModelConfig): WarmupRecipe | undefined => {
  const recipe = RECIPES[domain]
  if (recipe === undefined) return undefined
  // in the committed model's key order: the checkpoint records the model as JSON and compares it as such
  const ordered = Object.fromEntries((Object.keys(recipe.model) as Array<keyof ModelConfig>).map((k) => [k, model[k]])) as unknown as ModelConfig
  return { ...recipe, model: ordered }
}

/**
 * The base of `base: "bootstrapped"` runs: the derived recipe of the run's model with the bootstrapped
 * stage (recipe.ts bootstrapStage, bootstrap.ts). Built by build.ts `--bootstrapped` into derivedBaseDir.
 */
export const bootstrappedRecipe = (domain: DomainName, model: ModelConfig): WarmupRecipe | undefined => {
  const recipe = derivedRecipe(domain, model)
  return recipe === undefined ? undefined : { ...recipe, bootstrap: bootstrapStage }
}

/** Where derived bases live: $PMDSIM_BASES, else $XDG_CACHE_HOME/pmdsim/bases, else ~/.cache/pmdsim/bases. */
export const derivedBasesRoot = (): string =>
  process.env["PMDSIM_BASES"] ?? join(process.env["XDG_CACHE_HOME"] ?? join(homedir(), ".cache"), "pmdsim", "bases")

export const derivedBaseDir = (domain: DomainName, recipe: WarmupRecipe): string =>
  join(derivedBasesRoot(), `${domain}-${recipeHash(recipe).slice(0, 16)}`)

export interface RecipeRecord {
  readonly recipe: WarmupRecipe
  readonly recipeHash: string
  /** weightsHash after recipe.prefixSteps steps of the build (the test's cheap determinism guard). */
  readonly prefixHash: string
  readonly weightsHash: string
}

export interface CalibrationRecord {
  readonly recipeHash: string
  readonly weightsHash: string
  readonly options: CalibrateOptions
  readonly calibration: Calibration
}

export interface Base {
  readonly params: Params
  readonly config: ModelConfig
  readonly recipeHash: string
  readonly weightsHash: string
}

/** No committed base for this domain (or no recipe in the code for it). */
export class BaseMissing extends Error {
  readonly _tag = "BaseMissing"
  readonly domain: string
  constructor(domain: string, why: string) {
    super(`warm-up base for '${domain}': ${why}`)
    this.domain = domain
  }
}

/** The committed base was built from another recipe than the code's: rebuild it with build.ts. */
export class BaseRecipeMismatch extends Error {
  readonly _tag = "BaseRecipeMismatch"
  readonly domain: string
  readonly committed: string
  readonly expected: string
  constructor(domain: string, committed: string, expected: string) {
    super(`warm-up base for '${domain}' was built from recipe ${committed.slice(0, 16)}, the code's recipe is ${expected.slice(0, 16)}: ` +
      `rebuild with 'node src/experiments/warmup/build.ts --domain ${domain}'`)
    this.domain = domain
    this.committed = committed
    this.expected = expected
  }
}

const readJson = <A>(path: string): A => JSON.parse(readFileSync(path, "utf8")) as A

export const readRecipeRecord = (domain: DomainName, dir: string = baseDir(domain)): RecipeRecord => {
  const path = join(dir, "recipe.json")
  if (!existsSync(path)) throw new BaseMissing(domain, `${path} does not exist`)
  return readJson<RecipeRecord>(path)
}

export const readCalibrationRecord = (domain: DomainName, dir: string = baseDir(domain)): CalibrationRecord =>
  readJson<CalibrationRecord>(join(dir, "calibration.json"))

/** Writes a base: the checkpoint and recipe.json (calibration.json is written by `saveCalibration`). */
export const saveBase = (dir: string, params: Params, record: RecipeRecord): void => {
  saveCheckpoint(dir, { config: record.recipe.model, params, meta: { recipeHash: record.recipeHash, domain: record.recipe.domain.name } })
  writeFileSync(join(dir, "recipe.json"), JSON.stringify(record, null, 2) + "\n")
}

export const saveCalibration = (dir: string, record: CalibrationRecord): void => {
  writeFileSync(join(dir, "calibration.json"), JSON.stringify(record, null, 2) + "\n")
}

/**
 * Loads the committed base of `domain` (or, given `recipe` and `dir`, a base built from that recipe) as
 * fresh variables (the caller disposes them). Throws BaseMissing, BaseRecipeMismatch, or the numeric
 * CheckpointError on damaged files; checks the weights hash too.
 */
export const loadBase = (domain: DomainName, dir: string = baseDir(domain), recipe: WarmupRecipe | undefined = RECIPES[domain]): Base => {
  if (recipe === undefined) throw new BaseMissing(domain, "no recipe in src/experiments/warmup/recipe.ts")
  const expected = recipeHash(recipe)
  const record = readRecipeRecord(domain, dir)
  if (record.recipeHash !== expected) throw new BaseRecipeMismatch(domain, record.recipeHash, expected)
  const data = loadCheckpoint(dir, recipe.model)
  const meta = data.meta as { recipeHash?: unknown } | null
  if (meta?.recipeHash !== expected) throw new BaseRecipeMismatch(domain, String(meta?.recipeHash), expected)
  const params = paramsFromWeights(data.config, data.weights)
  const hash = weightsHash(params)
  if (hash !== record.weightsHash) {
    throw new BaseMissing(domain, `weights hash ${hash.slice(0, 16)} differs from recipe.json's ${record.weightsHash.slice(0, 16)}`)
  }
  return { params, config: data.config, recipeHash: expected, weightsHash: hash }
}
