/**
 * The committed base checkpoint: its recipe is the code's, it loads with the recorded weights hash, the
 * build is deterministic (a short prefix rebuilt twice equals the prefix hash recorded at build time),
 * a stale recipe is refused, and the base behaves as calibrated (direction of the §9.3 targets).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { type Domain, type ProblemBase, makeDomain } from "../../../src/domains/index.ts"
import { disposeParams, initBackend, paramCount } from "../../../src/numeric/index.ts"
import {
  BaseMissing,
  BaseRecipeMismatch,
  baseDir,
  loadBase,
  readCalibrationRecord,
  readRecipeRecord
} from "../../../src/experiments/warmup/base.ts"
import { calibrate } from "../../../src/experiments/warmup/calibrate.ts"
import { codeRecipe, recipeHash } from "../../../src/experiments/warmup/recipe.ts"
import { buildBase } from "../../../src/experiments/warmup/train.ts"

const tmp = mkdtempSync(join(tmpdir(), "pmdsim-warmup-test-"))
beforeAll(async () => {
  await initBackend("wasm")
})
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe("committed code base", () => {
  test("recipe.json holds the code's recipe and its hash", () => {
    const rec = readRecipeRecord("code")
    expect(rec.recipe).toEqual(JSON.parse(JSON.stringify(codeRecipe)))
    expect(rec.recipeHash).toBe(recipeHash(codeRecipe))
    expect(readCalibrationRecord("code").recipeHash).toBe(rec.recipeHash)
  })

  test("the checkpoint loads, with the weights hash recipe.json records", () => {
    const base = loadBase("code")
    try {
      expect(base.weightsHash).toBe(readRecipeRecord("code").weightsHash)
      expect(base.recipeHash).toBe(recipeHash(codeRecipe))
      expect(base.config).toEqual(codeRecipe.model)
      const n = paramCount(base.params)
      expect(n).toBeGreaterThan(100_000)
      expect(n).toBeLessThan(300_000)
    } finally {
      disposeParams(base.params)
    }
  })

  test("a base built from another recipe is refused; a missing one is named", () => {
    const dir = join(tmp, "stale")
    cpSync(baseDir("code"), dir, { recursive: true })
    const rec = JSON.parse(readFileSync(join(dir, "recipe.json"), "utf8"))
    writeFileSync(join(dir, "recipe.json"), JSON.stringify({ ...rec, recipeHash: "0".repeat(64) }))
    expect(() => loadBase("code", dir)).toThrow(BaseRecipeMismatch)
    expect(() => loadBase("code", join(tmp, "nothing"))).toThrow(BaseMissing)
  })

  test("rebuilding the first prefixSteps steps twice gives the recorded prefix hash", () => {
    const n = codeRecipe.prefixSteps
    const a = buildBase(codeRecipe, { stopAfter: n })
    const b = buildBase(codeRecipe, { stopAfter: n })
    disposeParams(a.params)
    disposeParams(b.params)
    expect(a.stepsRun).toBe(n)
    expect(a.weightsHash).toBe(b.weightsHash)
    expect(a.prefixHash).toBe(a.weightsHash)
    // A mismatch here with a == b means the build's bits changed since the base was committed (a recipe
    // or numeric-kernel change): rebuild with `node src/experiments/warmup/build.ts --domain code`.
    expect(a.weightsHash, "prefix hash differs from recipe.json: rebuild the base").toBe(readRecipeRecord("code").prefixHash)
  }, 300_000) // two warm-up prefixes: 25 s on an idle 2-core machine, 143 s measured under heavy load

  test("calibration on a subset: a skill hint helps, a solution hint is followed", () => {
    const base = loadBase("code")
    try {
      const domain = makeDomain(codeRecipe.domain) as Domain<ProblemBase>
      const c = calibrate(base.params, base.config, domain, { splits: ["heldout"], maxProblems: 60 })
      const g = c.heldout!.greedy
      expect(g.skill).toBeGreaterThan(g.none)
      expect(g.solution).toBeGreaterThanOrEqual(0.8)
      expect(g.none).toBeGreaterThan(0)
    } finally {
      disposeParams(base.params)
    }
  })
})
