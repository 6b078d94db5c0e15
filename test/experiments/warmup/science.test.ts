/** The committed (provisional) science base: the code's recipe, loadable, and its build prefix reproducible. */
import { beforeAll, describe, expect, test } from "vitest"
import { disposeParams, initBackend } from "../../../src/numeric/index.ts"
import { loadBase, readRecipeRecord } from "../../../src/experiments/warmup/base.ts"
import { recipeHash, scienceRecipe } from "../../../src/experiments/warmup/recipe.ts"
import { buildBase } from "../../../src/experiments/warmup/train.ts"

beforeAll(async () => {
  await initBackend("wasm")
})

describe("committed science base", () => {
  test("recipe.json holds the code's recipe; the checkpoint loads with its recorded weights hash", () => {
    const rec = readRecipeRecord("science")
    expect(rec.recipeHash).toBe(recipeHash(scienceRecipe))
    const base = loadBase("science")
    try {
      expect(base.weightsHash).toBe(rec.weightsHash)
    } finally {
      disposeParams(base.params)
    }
  })

  test("the first prefixSteps steps rebuild to the recorded prefix hash", () => {
    const a = buildBase(scienceRecipe, { stopAfter: scienceRecipe.prefixSteps })
    disposeParams(a.params)
    expect(a.weightsHash, "prefix hash differs from recipe.json: rebuild the base").toBe(readRecipeRecord("science").prefixHash)
  })
})
