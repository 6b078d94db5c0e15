/** `pmdsim sweep --config FILE --out DIR` and `pmdsim start` (the embedded default comparison). */
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { mkdirSync } from "node:fs"
import { availableParallelism } from "node:os"
import { aggregate, executeSweep, formatTable, planSweep, readSweepSpec, type SweepSpec, writeSweepSummary } from "../../experiments/sweep.ts"
import { writeReport } from "../../report/index.ts"
import { EXIT } from "../failure.ts"

const COLUMNS = ["internalization avg@k", "internalization best avg@k", "transfer avg@k", "internalization headroom", "internalization with memory"]

export const runSweep = (spec: SweepSpec, dir: string) =>
  Effect.gen(function*() {
    const plan = planSweep(spec)
    mkdirSync(dir, { recursive: true })
    const parallel = spec.parallel ?? availableParallelism()
    console.log(`sweep: ${plan.length} runs, ${Math.min(parallel, availableParallelism())} at a time, into ${dir}`)
    const results = yield* Effect.promise(() => executeSweep(plan, dir, parallel, (l) => console.log(l)))
    const failed = results.filter((r) => r.code !== 0)
    const rows = aggregate(plan, dir)
    writeSweepSummary(dir, rows)
    console.log(`\nmemory-free accuracy (mean ± 95% CI over seeds, %):\n${formatTable(rows, COLUMNS)}`)
    const report = yield* Effect.promise(() => writeReport(dir))
    console.log(`\nreport: ${report.html}`)
    if (failed.length > 0) console.log(`failed runs: ${failed.map((f) => `${f.name} (exit ${f.code})`).join(", ")}`)
    return failed.length === 0 ? EXIT.ok : EXIT.failure
  })

export const sweepCommand = Command.make("sweep", {
  config: Flag.String("config").pipe(Flag.withDescription("sweep file: { preset, set, methods, seeds, knobs, parallel }")),
  out: Flag.String("out")
}, (f) => Effect.gen(function*() {
  process.exitCode = yield* runSweep(readSweepSpec(f.config), f.out)
})).pipe(Command.withDescription("methods x seeds x knobs in parallel processes; means with 95% confidence intervals"))

/** What `npm start` runs: GRPO vs SDPO vs PMD on the code domain, a few seeds. */
export const DEFAULT_EXPERIMENT: SweepSpec = { preset: "default", methods: ["grpo", "sdpo", "pmd"], seeds: [1, 2, 3] }

export const startCommand = Command.make("start", {
  out: Flag.String("out").pipe(Flag.withDefault("runs/default"), Flag.withDescription("sweep directory")),
  seeds: Flag.Int("seeds").pipe(Flag.optional, Flag.withDescription("number of seeds (default 3)"))
}, (f) => Effect.gen(function*() {
  const n = Option.getOrElse(f.seeds, () => DEFAULT_EXPERIMENT.seeds.length)
  process.exitCode = yield* runSweep({ ...DEFAULT_EXPERIMENT, seeds: Array.from({ length: n }, (_, i) => i + 1) }, f.out)
})).pipe(Command.withDescription("the embedded default experiment: GRPO vs SDPO vs PMD on the code domain"))
