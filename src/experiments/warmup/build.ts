/**
 * CLI: rebuild a domain's committed warm-up base, print progress and calibration.
 *
 *   node src/experiments/warmup/build.ts --domain code                 rebuild into base/code/ and calibrate
 *   node src/experiments/warmup/build.ts --domain code --verify        rebuild into a temporary directory and
 *                                                                      check the bytes equal the committed ones
 *   options: --out DIR (write elsewhere), --calibrate-every N (subset calibration during the build),
 *            --no-calibrate, --sampled (also sampled pass@1 at temperature 1, 4 samples),
 *            --recipe FILE (a candidate recipe as JSON, for tuning; needs --out),
 *            --model JSON (the domain's recipe with these model fields changed, e.g. '{"nLayers":1}': the
 *                         base runs of that shape start from, built into base.ts derivedBaseDir unless --out),
 *            --bootstrapped (the base of `base: "bootstrapped"` runs: the recipe, or --model's, with the
 *                         bootstrapped stage of bootstrap.ts; into derivedBaseDir unless --out),
 *            --threads N (wasm XNNPACK threads; the bytes built are the same for every N)
 *
 * Wall time appears only in this script's log lines; it never reaches a result.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { DomainName } from "../../domains/Domain.ts"
import { makeDomain } from "../../domains/index.ts"
import { disposeParams, initBackend, type ModelConfig, type Params } from "../../numeric/index.ts"
import { type CalibrateOptions, type Calibration, calibrate } from "./calibrate.ts"
import { baseDir, bootstrappedRecipe, derivedBaseDir, derivedRecipe, saveBase, saveCalibration } from "./base.ts"
import { buildBootstrapped } from "./bootstrap.ts"
import { RECIPES, type WarmupRecipe, recipeHash } from "./recipe.ts"
import { buildBase, type StepReport } from "./train.ts"

const args = process.argv.slice(2)
const flag = (name: string): boolean => args.includes(name)
const value = (name: string): string | undefined => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}

const domainName = (value("--domain") ?? "code") as DomainName
// --recipe FILE: a candidate recipe (JSON) for tuning; it may only be built into --out, never into base/
const recipeFile = value("--recipe")
const modelJson = value("--model")
const modelOverride = modelJson === undefined ? undefined : (JSON.parse(modelJson) as Partial<ModelConfig>)
const committedRecipe = RECIPES[domainName]
const bootstrapped = flag("--bootstrapped")
const model = committedRecipe === undefined ? undefined : { ...committedRecipe.model, ...modelOverride }
const recipe: WarmupRecipe | undefined = recipeFile !== undefined
  ? (JSON.parse(readFileSync(recipeFile, "utf8")) as WarmupRecipe)
  : bootstrapped && model !== undefined
  ? bootstrappedRecipe(domainName, model)
  : modelOverride !== undefined && model !== undefined
  ? derivedRecipe(domainName, model)
  : committedRecipe
if (recipeFile !== undefined && value("--out") === undefined) {
  console.error("--recipe needs --out (a candidate recipe never overwrites the committed base)")
  process.exit(2)
}
if (recipe === undefined) {
  console.error(`no warm-up recipe for domain '${domainName}'`)
  process.exit(2)
}
const verify = flag("--verify")
if ((modelOverride !== undefined || bootstrapped) && (recipeFile !== undefined || verify)) {
  console.error("--model and --bootstrapped cannot be combined with --recipe or --verify")
  process.exit(2)
}
const out = verify
  ? mkdtempSync(join(tmpdir(), "pmdsim-warmup-"))
  : (value("--out") ?? (modelOverride !== undefined || bootstrapped ? derivedBaseDir(domainName, recipe) : baseDir(domainName)))
const every = Number(value("--calibrate-every") ?? 0)
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`

const show = (c: Calibration): string =>
  Object.entries(c).map(([split, r]) => {
    const g = r!.greedy
    const s = r!.sampled === undefined ? "" : `  sampled none ${pct(r!.sampled.none)} skill ${pct(r!.sampled.skill)} sol ${pct(r!.sampled.solution)}`
    return `${split}(${r!.problems}): none ${pct(g.none)} skill ${pct(g.skill)} top3 ${pct(g.skillTop3)} sol ${pct(g.solution)} memory ${pct(g.memory)}${s}`
  }).join(" | ")

await initBackend("wasm", { threads: Number(value("--threads") ?? 1) })
const domain = makeDomain(recipe.domain)
const hash = recipeHash(recipe)
const stages = recipe.bootstrap === undefined ? "" : ` + bootstrapped stage ${recipe.bootstrap.steps} steps x ${recipe.bootstrap.batchSize}`
console.log(`warm-up ${domainName}: recipe ${hash.slice(0, 16)}, ${recipe.steps} steps x ${recipe.batchSize}${stages} -> ${out}`)
const t0 = performance.now()
let smooth = Number.NaN
const onStep = (r: StepReport, params: Params): void => {
  smooth = Number.isNaN(smooth) ? r.loss : 0.95 * smooth + 0.05 * r.loss
  if (r.step % 50 === 0 || r.step === 1) {
    const sec = (performance.now() - t0) / 1000
    console.log(`step ${r.step} loss ${r.loss.toFixed(4)} (ema ${smooth.toFixed(4)}) |g| ${r.gradNorm.toFixed(3)} lr ${r.lr.toExponential(2)} ${sec.toFixed(0)}s`)
  }
  if (every > 0 && r.step % every === 0 && r.step < recipe.steps) {
    console.log(`  calib@${r.step} ${show(calibrate(params, recipe.model, domain as never, { maxProblems: 60 }))}`)
  }
}
const result = recipe.bootstrap === undefined
  ? buildBase(recipe, { onStep })
  : buildBootstrapped(recipe, {
    onStep,
    log: (line) => console.log(line),
    onMemory: (pool, s) =>
      console.log(`memory of pool ${pool}: ${s.problems} problems, ${s.solved}/${s.attempts} attempts solved, ${s.strategies} strategies, ${s.lessons} lessons, ${s.behaviors} behaviors`)
  })
if (result.prefixHash === undefined) throw new Error("build stopped before prefixSteps")
const record = { recipe, recipeHash: hash, prefixHash: result.prefixHash, weightsHash: result.weightsHash }
saveBase(out, result.params, record)
console.log(`built in ${((performance.now() - t0) / 1000).toFixed(0)}s: weights ${result.weightsHash.slice(0, 16)} prefix@${recipe.prefixSteps} ${result.prefixHash.slice(0, 16)}`)

if (verify) {
  const committed = baseDir(domainName)
  let same = true
  for (const f of ["model.json", "weights.bin", "train-state.bin", "recipe.json"]) {
    const eq = Buffer.compare(readFileSync(join(out, f)), readFileSync(join(committed, f))) === 0
    console.log(`${eq ? "same" : "DIFFERENT"}: ${f}`)
    same &&= eq
  }
  rmSync(out, { recursive: true, force: true })
  disposeParams(result.params)
  process.exit(same ? 0 : 1)
}
if (!flag("--no-calibrate")) {
  const options: CalibrateOptions = flag("--sampled") ? { sampled: { temperature: 1, samples: 4 } } : {}
  const calibration = calibrate(result.params, recipe.model, domain as never, options)
  console.log(`calibration ${show(calibration)}`)
  saveCalibration(out, { recipeHash: hash, weightsHash: result.weightsHash, options, calibration })
}
disposeParams(result.params)
