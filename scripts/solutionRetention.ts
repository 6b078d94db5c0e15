/**
 * Does a stored solution reach the memory-free student, and where does it go? (issue #13, findings §17)
 * What is measured and how: src/experiments/solutionRetention.ts.
 *
 *   node scripts/solutionRetention.ts RUN_DIR [--solutions-from PMD_RUN_DIR | --reference] [--from STEP] [--to STEP] [--trajectory | --versus-failure]
 *
 * Scores the solutions of RUN_DIR's own rollouts.jsonl, or with `--solutions-from` those of a PMD run of
 * the same seed (a GRPO run records no responses), or with `--reference` every training problem's
 * reference solution (no run's sample: neutral between methods), between consecutive checkpoints in
 * [--from, --to].
 * Prints one JSON line: per observation kind, its count and mean. With `--trajectory`, the solutions known
 * at the first checkpoint scored are followed through every later one instead: [step, mean log π(S),
 * mean π(S)] (do per-visit gains add up over the run?). With `--versus-failure`, each problem with a stored
 * solution S and a stored failed attempt F (both from the same rollouts.jsonl) gives ΔS − ΔF per window
 * instead: what moved toward the solution itself, not toward every unlikely sequence alike. Reads the runs;
 * writes nothing.
 */
import { join } from "node:path"
import { Rng } from "../src/core/Rng.ts"
import type { Domain, ProblemBase } from "../src/domains/Domain.ts"
import { makeDomain } from "../src/domains/index.ts"
import { readRunCheckpoint } from "../src/experiments/checkpoint.ts"
import { readRolloutsFile, ROLLOUTS_FILE } from "../src/experiments/memoryReplay/rolloutsFile.ts"
import { readRunConfig } from "../src/experiments/resume.ts"
import { checkpointSteps } from "../src/experiments/runDir.ts"
import { domainSpec, modelConfig } from "../src/experiments/setup.ts"
import { contrastEffects, failuresAt, solutionsAt, summarize, visitsIn, windowEffects } from "../src/experiments/solutionRetention.ts"
import { disposeParams, initBackend, paramsFromWeights, scoreResponses } from "../src/numeric/index.ts"
import { LINEAGE_FILE, readLineageFile } from "../src/report/lineageFile.ts"

const args = process.argv.slice(2)
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name)
  return i < 0 ? undefined : args[i + 1]
}
const dir = args[0]
if (dir === undefined || dir.startsWith("--")) {
  console.error("usage: node scripts/solutionRetention.ts RUN_DIR [--solutions-from PMD_RUN_DIR | --reference] [--from STEP] [--to STEP] [--trajectory | --versus-failure]")
  process.exit(2)
}
/** a bad argument or run: its message (naming the flag or file), exit 2 */
const refuse = (message: string): never => {
  console.error(`solutionRetention: ${message}`)
  process.exit(2)
}
const reference = args.includes("--reference")
const solutionsDir = reference ? "reference" : flag("--solutions-from") ?? dir
const stepFlag = (name: string, absent: number): number => {
  const v = flag(name)
  if (v === undefined) return absent
  return /^\d+$/.test(v) ? Number(v) : refuse(`${name}: expected a step (a non-negative integer), got ${JSON.stringify(v)}`)
}
const from = stepFlag("--from", 0)
const to = stepFlag("--to", Infinity)
if (reference && args.includes("--versus-failure")) refuse("--versus-failure needs a run's stored failures: not with --reference")

/** a missing or damaged run (config, lineage, rollouts, checkpoint) is refused naming its file */
const orRefuse = <A>(f: () => A): A => {
  try {
    return f()
  } catch (e) {
    return refuse((e as Error).message)
  }
}
await initBackend("wasm")
const cfg = orRefuse(() => readRunConfig(dir))
const domain = makeDomain(domainSpec(cfg)) as Domain<ProblemBase>
const model = modelConfig(cfg)
const lineage = orRefuse(() => readLineageFile(join(dir, LINEAGE_FILE)))
const records = reference ? [] : orRefuse(() => readRolloutsFile(join(solutionsDir, ROLLOUTS_FILE)))
if (!reference && records.every((r) => r.call === null || r.call._tag !== "Remember")) {
  refuse(`${join(solutionsDir, ROLLOUTS_FILE)}: no stored rollouts (a run without memory records none): pass --solutions-from a PMD run of the same seed, or --reference`)
}
/** the training problems the run visited, each with its reference solution */
const references = new Map([...new Set(lineage.flatMap((r) => r.contexts.map((c) => c[1])))].sort().map((id) => [id, domain.solution(domain.problem(id))] as const))
const solutionsAtStep = (step: number): ReadonlyMap<string, ReadonlyArray<number>> => (reference ? references : solutionsAt(records, step))
const steps = checkpointSteps(dir).filter((s) => s >= from && s <= to)
if (steps.length < 2) refuse(`${dir}: ${steps.length} checkpoint(s) in [${from}, ${to}]; a window needs two`)

/** one fixed memory-free rendering per problem, so a window's two scores differ by the weights alone */
const prompts = new Map<string, ReadonlyArray<number>>()
const promptOf = (id: string) => {
  if (!prompts.has(id)) prompts.set(id, domain.prompt(domain.problem(id), Rng.root(cfg.seed).fork("solution-retention", id)))
  return prompts.get(id)!
}
/** log π(S | prompt) under the student of checkpoint `step`, per problem */
const seqLogp = (step: number, solutions: ReadonlyMap<string, ReadonlyArray<number>>): Map<string, number> => {
  const params = paramsFromWeights(model, orRefuse(() => readRunCheckpoint(dir, step)).policy.student)
  const ids = [...solutions.keys()].sort()
  const scored = scoreResponses(params, model, ids.map(promptOf), ids.map((id) => solutions.get(id)!))
  disposeParams(params)
  return new Map(ids.map((id, i) => [id, scored[i]!.tokenLogProbs.reduce((a, b) => a + b, 0)]))
}
const head = { run: dir, method: cfg.method, seed: cfg.seed, solutionsFrom: solutionsDir }

if (args.includes("--trajectory")) {
  const solutions = solutionsAtStep(steps[0]!)
  const mean = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0) / xs.length
  const trajectory = steps.map((c) => {
    const lp = [...seqLogp(c, solutions).values()]
    return [c, Number(mean(lp).toFixed(4)), Number(mean(lp.map(Math.exp)).toFixed(5))]
  })
  console.log(JSON.stringify({ ...head, problems: solutions.size, trajectory }))
} else if (args.includes("--versus-failure")) {
  const observations: Array<readonly [string, number]> = []
  for (let i = 0; i + 1 < steps.length; i++) {
    const failures = failuresAt(records, steps[i]!)
    const solutions = new Map([...solutionsAtStep(steps[i]!)].filter(([id]) => failures.has(id)))
    const both = new Map([...failures].filter(([id]) => solutions.has(id)))
    const scored = (seqs: ReadonlyMap<string, ReadonlyArray<number>>) => ({ before: seqLogp(steps[i]!, seqs), after: seqLogp(steps[i + 1]!, seqs) })
    observations.push(...contrastEffects({ solution: scored(solutions), failure: scored(both), visits: visitsIn(lineage, steps[i]!, steps[i + 1]!) }))
  }
  console.log(JSON.stringify({ ...head, windows: steps.length - 1, ...summarize(observations) }))
} else {
  const observations: Array<readonly [string, number]> = []
  for (let i = 0; i + 1 < steps.length; i++) {
    const solutions = solutionsAtStep(steps[i]!)
    const visits = visitsIn(lineage, steps[i]!, steps[i + 1]!)
    observations.push(...windowEffects({ before: seqLogp(steps[i]!, solutions), after: seqLogp(steps[i + 1]!, solutions), visits }))
  }
  console.log(JSON.stringify({ ...head, windows: steps.length - 1, ...summarize(observations) }))
}
