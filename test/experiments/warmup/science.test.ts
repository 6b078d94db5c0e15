/** The committed science base: the code's recipe, loadable, its build prefix reproducible, its calibration on target. */
import { beforeAll, describe, expect, test } from "vitest"
import { disposeParams, initBackend } from "../../../src/numeric/index.ts"
import { loadBase, readCalibrationRecord, readRecipeRecord } from "../../../src/experiments/warmup/base.ts"
import { recipeHash, scienceRecipe } from "../../../src/experiments/warmup/recipe.ts"
import { auxPools, buildBase, stepExamples } from "../../../src/experiments/warmup/train.ts"
import { examplePool } from "../../../src/experiments/warmup/examples.ts"
import { Control } from "../../../src/domains/control.ts"
import { makeDomain } from "../../../src/domains/index.ts"
import type { Domain, ProblemBase } from "../../../src/domains/Domain.ts"
import { hashValue } from "../../../src/core/Hash.ts"

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

  test("calibration.json is of this build and on target (issue #13): held-out skill hint >= memory-free + 15", () => {
    const rec = readCalibrationRecord("science")
    expect(rec.recipeHash).toBe(recipeHash(scienceRecipe))
    expect(rec.weightsHash).toBe(readRecipeRecord("science").weightsHash)
    const train = rec.calibration.train!.greedy
    const heldout = rec.calibration.heldout!.greedy
    expect(rec.calibration.heldout!.problems).toBe(128)
    expect(heldout.skill - heldout.none).toBeGreaterThanOrEqual(0.15)
    expect(heldout.none).toBeGreaterThanOrEqual(0.1)
    expect(heldout.none).toBeLessThanOrEqual(0.35)
    expect(train.none).toBeLessThanOrEqual(0.6)
    expect(heldout.solution).toBeGreaterThanOrEqual(0.9)
    expect(heldout.memory).toBeGreaterThanOrEqual(0.9)
  })

  test("the first prefixSteps steps rebuild to the recorded prefix hash", () => {
    const a = buildBase(scienceRecipe, { stopAfter: scienceRecipe.prefixSteps })
    disposeParams(a.params)
    expect(a.weightsHash, "prefix hash differs from recipe.json: rebuild the base").toBe(readRecipeRecord("science").prefixHash)
  })
})

describe("mixture.workingDrill", () => {
  const pool = examplePool(makeDomain(scienceRecipe.domain) as Domain<ProblemBase>)
  const only = { none: 0, skill: 0, solution: 1, feedback: 0 }

  test("a drilled solution context shows the working without the letter; the response is the whole solution", () => {
    const drill = { ...scienceRecipe, mixture: { ...scienceRecipe.mixture, start: only, end: only, foreign: 0, workingDrill: 1 } }
    const examples = stepExamples(drill, pool, 3)
    expect(examples.length).toBe(scienceRecipe.batchSize)
    for (const e of examples) {
      const at = e.context.indexOf(Control.SOL)
      const shown = e.context.slice(at + 1, e.context.indexOf(Control.END, at))
      expect(shown).toEqual(e.response.slice(0, -2)) // w p, without the letter and [EOS]
    }
  })

  test("a drill probability of 0 never drills, and draws like a recipe without the knob", () => {
    const { workingDrill: _, ...noDrill } = scienceRecipe.mixture
    const absent = { ...scienceRecipe, mixture: noDrill }
    const zero = { ...scienceRecipe, mixture: { ...noDrill, workingDrill: 0 } }
    const foreign = auxPools(scienceRecipe)
    expect(hashValue(stepExamples(zero, pool, 5, foreign))).toBe(hashValue(stepExamples(absent, pool, 5, foreign)))
  })
})
