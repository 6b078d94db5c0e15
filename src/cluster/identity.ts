/**
 * Who a cluster is for: the pmdsim version and the hash of the base recipes (the committed warm-up bases
 * every `base: "warmup"` run starts from). Both name the table prefix and the run ids, so a run never mixes
 * code versions: a runner of another version would compute other hashes from the same config.
 */
import { readFileSync } from "node:fs"
import { resultHash } from "../config/resolve.ts"
import type { RunConfig } from "../config/RunConfig.ts"
import { hashValue } from "../core/Hash.ts"
import { RECIPES, recipeHash } from "../experiments/warmup/recipe.ts"

/** The package's version (package.json sits two levels up from src/cluster and from dist/src/cluster's parent). */
const readVersion = (): string => {
  for (const rel of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8")) as { name?: string; version?: string }
      if (pkg.name === "pmdsim" && typeof pkg.version === "string") return pkg.version
    } catch {
      // try the next candidate
    }
  }
  throw new Error("cannot find pmdsim's package.json")
}

export const PMDSIM_VERSION: string = readVersion()

/** One hash over every domain's base recipe: a runner whose bases differ would train other runs. */
export const BASE_RECIPE_HASH: string = hashValue(
  Object.fromEntries(Object.entries(RECIPES).sort(([a], [b]) => (a < b ? -1 : 1)).map(([d, r]) => [d, r === undefined ? null : recipeHash(r)]))
)

/**
 * Table prefix of this version: `pmdsim_v0_1_0`. Our tables are `<prefix>_runs`, ...; the cluster's own
 * (messages, replies, locks, runners) are `<prefix>_cluster_*`, whose advisory-lock namespace is derived
 * from that prefix too, so two versions in one database never take each other's messages.
 */
export const TABLE_PREFIX = `pmdsim_v${PMDSIM_VERSION.replace(/[^a-zA-Z0-9]+/g, "_")}`
export const CLUSTER_PREFIX = `${TABLE_PREFIX}_cluster`

/** A run's content hash: what it computes (result fields of the config) under which code and bases. */
export const runIdOf = (cfg: RunConfig): string =>
  hashValue({ pmdsim: PMDSIM_VERSION, baseRecipes: BASE_RECIPE_HASH, result: resultHash(cfg) })
