/**
 * The bootstrapped warm-up stage (issue #13): memory written by the real pipeline from the model's own
 * rollouts (not synthetic corruptions), the stage-2 examples that read it, bit-identical builds, and a
 * `base: "bootstrapped"` run refused with the build command while its base is not built.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { defaultConfig } from "../../../src/config/presets.ts"
import { hashValue } from "../../../src/core/Hash.ts"
import { Rng } from "../../../src/core/Rng.ts"
import { Control } from "../../../src/domains/control.ts"
import { cli } from "../cliHelpers.ts"
import type { Domain, ProblemBase } from "../../../src/domains/Domain.ts"
import { makeDomain } from "../../../src/domains/index.ts"
import { BaseCheckpointError, baseCheckpoint } from "../../../src/experiments/base.ts"
import { bootstrapExample, bootstrapMemories, continueBootstrapped, stageOne } from "../../../src/experiments/warmup/bootstrap.ts"
import { rolloutMemory } from "../../../src/experiments/warmup/bootstrapMemory.ts"
import { bootstrappedRecipe, derivedBaseDir, loadBase } from "../../../src/experiments/warmup/base.ts"
import { examplePool } from "../../../src/experiments/warmup/examples.ts"
import { bootstrapStage, codeRecipe, recipeHash, type WarmupRecipe } from "../../../src/experiments/warmup/recipe.ts"
import { auxPools } from "../../../src/experiments/warmup/train.ts"
import { disposeParams, initBackend, initParams, type Params, weightsHash } from "../../../src/numeric/index.ts"

const root = mkdtempSync(join(tmpdir(), "pmdsim-bootstrap-"))
const before = process.env["PMDSIM_BASES"]
let base: Params

beforeAll(async () => {
  process.env["PMDSIM_BASES"] = root
  await initBackend("wasm")
  base = loadBase("code").params
})
afterAll(() => {
  disposeParams(base)
  if (before === undefined) delete process.env["PMDSIM_BASES"]
  else process.env["PMDSIM_BASES"] = before
  rmSync(root, { recursive: true, force: true })
})

/** The code recipe on a small benchmark (2 clusters x 4 train problems, one auxiliary domain), short stages. */
const small: WarmupRecipe = {
  ...codeRecipe,
  domain: { ...codeRecipe.domain, config: { ...codeRecipe.domain.config, clusters: 2, trainPerCluster: 4, heldoutPerCluster: 2 } } as WarmupRecipe["domain"],
  auxSeeds: [101],
  prefixSteps: 2,
  bootstrap: { ...bootstrapStage, rounds: 2, samples: 2, steps: 3, batchSize: 4, schedule: { ...bootstrapStage.schedule, warmupSteps: 1, totalSteps: 3 } }
}
const smallPool = () => examplePool(makeDomain(small.domain) as Domain<ProblemBase>)
const spec = small.bootstrap!

describe("memory from the model's own rollouts", () => {
  test("holds the sampled attempts, verified, with the reflector's insights; the same streams give the same memory", () => {
    const pool = smallPool()
    const m = rolloutMemory(base, small.model, pool, defaultConfig, spec, Rng.root(7))
    expect(m.stats.problems).toBe(8)
    expect(m.stats.attempts).toBe(8 * spec.rounds * spec.samples)
    const items = [...m.views.values()].flatMap((v) => [...(v.experience?.successes ?? []), ...(v.experience?.failures ?? [])])
    expect(items.length).toBeGreaterThan(0)
    for (const it of items) {
      expect(it.prov.rolloutId).toMatch(/^boot-r[01]-/)
      const problem = pool.problems.find((p) => it.prov.rolloutId.includes(`-${p.id}-`))!
      // what the verifier says of the stored response is what the memory recorded
      expect(pool.domain.verify(problem, it.response, "train").solved).toBe(it.success)
    }
    // the base fails some of its own attempts: lessons come from those failures
    expect(m.stats.lessons).toBeGreaterThan(0)
    expect([...m.views.values()].some((v) => (v.insights?.lessons.length ?? 0) > 0)).toBe(true)
    const again = rolloutMemory(base, small.model, pool, defaultConfig, spec, Rng.root(7))
    expect(hashValue([...again.views])).toBe(hashValue([...m.views]))
    expect(hashValue([...rolloutMemory(base, small.model, pool, defaultConfig, spec, Rng.root(8)).views])).not.toBe(hashValue([...m.views]))
  })

  test("a bootstrapped visit reads that memory, within the teacher's budget, and learns the reference solution", () => {
    const pool = smallPool()
    const foreign = auxPools(small)
    const memories = bootstrapMemories(base, small, pool, foreign)
    const always = { ...small, bootstrap: { ...spec, share: 1 } }
    let withLesson = 0
    let foreignVisits = 0
    for (let i = 0; i < 40; i++) {
      const p = pool.problems[i % pool.problems.length]!
      const e = bootstrapExample(always, pool, p, foreign, memories, Rng.root(3).fork("visit", i))
      expect(e.kind).toBe("memory")
      expect(e.context.length).toBeLessThanOrEqual(spec.memory.contextTokensMax)
      if (e.context.includes(Control.LESSON)) withLesson++
      if (e.foreign) foreignVisits++
      const owner = e.foreign ? foreign[0]! : pool
      expect(e.response).toEqual(owner.domain.solution(owner.problems.find((q) => q.id === e.problemId)!))
    }
    expect(withLesson).toBeGreaterThan(0)
    expect(foreignVisits).toBeGreaterThan(0)
    expect(foreignVisits).toBeLessThan(40)
  })
})

describe("the bootstrapped stage", () => {
  test("trains the stage-1 weights, bit for bit the same on a second build", () => {
    const build = (): { hash: string; prefix: string | undefined; changed: boolean } => {
      const params = initParams(small.model, Rng.root(small.seed).fork("warmup", "init"))
      const init = weightsHash(params)
      const r = continueBootstrapped(params, small)
      const out = { hash: r.weightsHash, prefix: r.prefixHash, changed: r.weightsHash !== init }
      disposeParams(r.params)
      return out
    }
    const a = build()
    expect(a.changed).toBe(true)
    expect(a.prefix).toBeDefined()
    expect(build()).toEqual(a)
  })

  test("its recipe is the committed one plus the stage: another hash, the same stage 1", () => {
    const recipe = bootstrappedRecipe("code", codeRecipe.model)!
    expect(recipe.bootstrap).toEqual(bootstrapStage)
    expect(recipeHash(recipe)).not.toBe(recipeHash(codeRecipe))
    expect(recipeHash(stageOne(recipe))).toBe(recipeHash(codeRecipe))
  })

  test("a bootstrapped run with no built base is refused with the command that builds it", () => {
    try {
      baseCheckpoint("code", codeRecipe.model, "bootstrapped")
      throw new Error("expected a BaseCheckpointError")
    } catch (e) {
      expect(e).toBeInstanceOf(BaseCheckpointError)
      const message = (e as Error).message
      expect(message).toContain("build.ts --domain code --bootstrapped")
      expect(message).toContain(derivedBaseDir("code", bootstrappedRecipe("code", codeRecipe.model)!))
    }
  })

  test("`pmdsim run` refuses it with exit 2 and leaves no run behind: the same command works once the base is built", () => {
    const out = join(root, "run")
    for (let attempt = 0; attempt < 2; attempt++) {
      const r = cli(["run", "--preset", "tiny", "--set", "base=bootstrapped", "--out", out], { PMDSIM_BASES: root })
      expect(r.status, r.stderr).toBe(2)
      expect(r.stderr).toContain("build.ts --domain code --bootstrapped")
      expect(existsSync(join(out, "pmdsim-run.json"))).toBe(false)
    }
  })
})
