/**
 * Bases for other model shapes (issue #13, memory transfer to a wider or shallower model): a run whose model
 * differs from the committed base's starts from the base built by the same recipe with its model
 * (`build.ts --model`), found by that recipe's hash in $PMDSIM_BASES; missing, it is refused with the
 * command that builds it; one whose recipe hash was tampered with is refused; the committed shape still
 * loads the committed base.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { Rng } from "../../../src/core/Rng.ts"
import { BaseCheckpointError, baseCheckpoint } from "../../../src/experiments/base.ts"
import { derivedBaseDir, derivedRecipe, readRecipeRecord, saveBase } from "../../../src/experiments/warmup/base.ts"
import { codeRecipe, recipeHash } from "../../../src/experiments/warmup/recipe.ts"
import { disposeParams, initBackend, initParams, weightsHash } from "../../../src/numeric/index.ts"

const root = mkdtempSync(join(tmpdir(), "pmdsim-bases-"))
const before = process.env["PMDSIM_BASES"]
const oneLayer = { ...codeRecipe.model, nLayers: 1 }

beforeAll(async () => {
  process.env["PMDSIM_BASES"] = root
  await initBackend("wasm")
})
afterAll(() => {
  if (before === undefined) delete process.env["PMDSIM_BASES"]
  else process.env["PMDSIM_BASES"] = before
  rmSync(root, { recursive: true, force: true })
})

const refusal = (f: () => unknown): string => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(BaseCheckpointError)
    return (e as Error).message
  }
  throw new Error("expected a BaseCheckpointError")
}

describe("derived bases", () => {
  test("a shape with no built base is refused with the command that builds it", () => {
    const message = refusal(() => baseCheckpoint("code", oneLayer))
    expect(message).toContain(`build.ts --domain code --model '${JSON.stringify(oneLayer)}'`)
    expect(message).toContain(derivedBaseDir("code", derivedRecipe("code", oneLayer)!))
  })

  test("a built base of the run's shape is loaded, with its own recipe hash; a tampered one is refused", () => {
    const recipe = derivedRecipe("code", oneLayer)!
    const dir = derivedBaseDir("code", recipe)
    // stands in for build.ts's output (the build itself is the committed base's, tested in base.test.ts)
    const params = initParams(oneLayer, Rng.root(5))
    const hash = weightsHash(params)
    saveBase(dir, params, { recipe, recipeHash: recipeHash(recipe), prefixHash: hash, weightsHash: hash })
    disposeParams(params)
    const loaded = baseCheckpoint("code", oneLayer)
    // a run's model lists its fields in another order than the recipe's: the same base
    const { vocabSize, ...rest } = oneLayer
    expect(baseCheckpoint("code", { ...rest, vocabSize }).recipeHash).toBe(loaded.recipeHash)
    expect(loaded.recipeHash).toBe(recipeHash(recipe))
    expect(loaded.recipeHash).not.toBe(recipeHash(codeRecipe))
    expect(loaded.weights.some((w) => w.name.startsWith("l1."))).toBe(false)
    expect(loaded.weights.some((w) => w.name.startsWith("l0."))).toBe(true)

    const path = join(dir, "recipe.json")
    const record = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>
    writeFileSync(path, JSON.stringify({ ...record, recipeHash: "0".repeat(64) }))
    expect(refusal(() => baseCheckpoint("code", oneLayer))).toContain("was built from recipe 0000000000000000")
  })

  test("the committed shape still loads the committed base", () => {
    expect(baseCheckpoint("code", codeRecipe.model).recipeHash).toBe(readRecipeRecord("code").recipeHash)
  })
})
