/**
 * How well a base reads *real* memory (issue #13, the bootstrapped base): the committed base's own
 * rollouts on a split (2 rounds x 4 samples, bootstrapMemory.ts: the run's memory pipeline) are composed
 * at levels E / EI / EIB before each problem's prompt, and each base answers greedily (eval protocol).
 * Rows split by whether the memory holds a stored success. Held-out problems never appear in the
 * bootstrapped stage, so on that split the memory is new to both readers.
 *
 *   node scripts/readRealMemory.ts [heldout|train]        (needs the bootstrapped base built: build.ts --bootstrapped)
 */
import { presets } from "../src/config/presets.ts"
import { Rng } from "../src/core/Rng.ts"
import { Control } from "../src/domains/control.ts"
import type { Domain, ProblemBase } from "../src/domains/Domain.ts"
import { makeDomain } from "../src/domains/index.ts"
import { compose, type MemoryLevels } from "../src/memory/retrieval/compose.ts"
import { disposeParams, initBackend, type Params, sample } from "../src/numeric/index.ts"
import { bootstrappedRecipe, derivedBaseDir, loadBase } from "../src/experiments/warmup/base.ts"
import { rolloutMemory } from "../src/experiments/warmup/bootstrapMemory.ts"
import { examplePool } from "../src/experiments/warmup/examples.ts"
import { bootstrapStage, codeRecipe } from "../src/experiments/warmup/recipe.ts"

await initBackend("wasm")
const split = (process.argv[2] ?? "heldout") as "train" | "heldout"
const domain = makeDomain(codeRecipe.domain) as Domain<ProblemBase>
const pool = examplePool(domain, [split])
const committed = loadBase("code")
const recipe = bootstrappedRecipe("code", codeRecipe.model)!
const bootstrapped = loadBase("code", derivedBaseDir("code", recipe), recipe)
const memory = rolloutMemory(committed.params, codeRecipe.model, pool, presets["default"]!, bootstrapStage, Rng.root(99).fork("read-real-memory", split))
console.log(`${split}: ${JSON.stringify(memory.stats)}`)

const LEVELS: ReadonlyArray<"none" | MemoryLevels> = ["none", "E", "EI", "EIB"]
const rows = pool.problems.flatMap((p) => {
  const prompt = domain.prompt(p, Rng.root(5).fork("prompt", p.id))
  const view = memory.views.get(p.id) ?? {}
  const solved = (view.experience?.successes.length ?? 0) > 0
  return LEVELS.map((level) => ({ p, level, solved, tokens: level === "none" ? prompt : compose(view, { prompt }, { levels: level, budget: bootstrapStage.memory.contextTokensMax }).tokens }))
})
const pct = (s: number, n: number): string => (n === 0 ? "-" : `${((100 * s) / n).toFixed(1)}%`)
const read = (name: string, params: Params): void => {
  const hits = new Map<string, [number, number]>()
  const add = (key: string, ok: number) => {
    const [s, n] = hits.get(key) ?? [0, 0]
    hits.set(key, [s + ok, n + 1])
  }
  for (let i = 0; i < rows.length; i += 64) {
    const chunk = rows.slice(i, i + 64)
    const out = sample(params, codeRecipe.model, chunk.map((r, j) => ({ prompt: r.tokens, rng: Rng.root(1).fork(i + j) })), {
      temperature: 0, maxNewTokens: domain.maxResponseTokens, stopTokens: [Control.EOS], bannedTokens: [Control.PAD]
    })
    chunk.forEach((r, j) => {
      const ok = domain.verify(r.p, out[j]!.tokens, "eval").solved ? 1 : 0
      add(r.level, ok)
      add(`${r.level} ${r.solved ? "with" : "without"} a stored success`, ok)
    })
  }
  console.log(`${name}: ${[...hits].map(([k, [s, n]]) => `${k} ${pct(s, n)} (${n})`).join(" | ")}`)
}
read("committed base", committed.params)
read("bootstrapped base", bootstrapped.params)
disposeParams(committed.params)
disposeParams(bootstrapped.params)
