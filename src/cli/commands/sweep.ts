/** `pmdsim sweep --config FILE --out DIR` (or `--cluster URL`: submit to a cluster, src/cluster/) and `pmdsim start` (the embedded default comparison). */
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { availableParallelism } from "node:os"
import { basename } from "node:path"
import { makeDirDurable } from "../../core/durableFile.ts"
import { requireDirOrAbsent } from "../../experiments/runDir.ts"
import { withRunLock } from "../../experiments/runLock.ts"
import { aggregate, executeSweep, formatTable, planSweep, readSweepSpec, SweepConfigError, sweepStatus, type SweepSpec, writeSweepSummary } from "../../experiments/sweep.ts"
import { ClusterInputError } from "../../cluster/errors.ts"
import { submitToCluster } from "./cluster.ts"
import { writeReport } from "../../report/index.ts"
import { formatPairedTable } from "../../report/paired.ts"
import { EXIT } from "../failure.ts"
import type { RunConfig } from "../../config/RunConfig.ts"
import { exportPluginFiles, loadPluginFiles } from "../../plugins/load.ts"
import { checkPluginNames } from "../../plugins/registry.ts"
import { pluginFlag } from "./run.ts"

const COLUMNS = ["internalization avg@k", "internalization best avg@k", "transfer avg@k", "internalization headroom", "internalization with memory"]

export const runSweep = (spec: SweepSpec, dir: string, force = false) =>
  Effect.gen(function*() {
    const plan = planSweep(spec)
    requireDirOrAbsent(dir)
    makeDirDurable(dir)
    return yield* withRunLock(dir, "sweep", Effect.gen(function*() {
      const status = sweepStatus(plan, dir, force)
      const parallel = spec.parallel ?? availableParallelism()
      const count = (s: string) => [...status.values()].filter((v) => v === s).length
      console.log(`sweep: ${plan.length} runs (${count("done")} done, ${count("resume")} to resume, ${count("redo")} to redo, ${count("new")} new), ${Math.min(parallel, availableParallelism())} at a time, into ${dir}`)
      const results = yield* Effect.promise(() => executeSweep(plan, status, dir, parallel, (l) => console.log(l)))
      const failed = results.filter((r) => r.code !== 0)
      if (failed.length > 0 && failed.every((r) => r.code === EXIT.interrupted)) {
        console.log(`interrupted: ${failed.length} run(s) stopped at a checkpoint; rerun the same command to continue`)
        return EXIT.interrupted
      }
      // a run another process still writes (often a crashed sweep's child finishing its step) is not a
      // failure of this sweep: say so and exit 3, so the same command can simply be rerun once it stops
      if (failed.length > 0 && failed.every((r) => r.code === EXIT.refused)) {
        console.log(`busy: ${failed.map((f) => f.name).join(", ")} still written by another process; rerun the same command once it stops`)
        return EXIT.refused
      }
      const rows = aggregate(plan, dir, { baseline: spec.baseline })
      writeSweepSummary(dir, rows)
      console.log(`\nmemory-free accuracy (mean ± 95% CI over seeds, %):\n${formatTable(rows, COLUMNS)}`)
      const baseline = rows[0]?.paired.baseline
      if (baseline !== undefined && rows.length > 1) {
        const paired = { baseline, rows: rows.filter((r) => r.setting !== baseline).map((r) => ({ setting: r.setting, cells: r.paired.cells })) }
        console.log(`\npaired differences against ${baseline} (setting − baseline at the same seed, mean ± 95% CI, points; * = interval excludes 0; need = seeds for 80% power):\n${formatPairedTable(paired, COLUMNS)}`)
      }
      const report = yield* Effect.promise(() => writeReport(dir))
      console.log(`\nreport: ${report.html}`)
      if (failed.length > 0) console.log(`failed runs: ${failed.map((f) => `${f.name} (exit ${f.code})`).join(", ")}`)
      return failed.length === 0 ? EXIT.ok : EXIT.failure
    }))
  })

export const sweepCommand = Command.make("sweep", {
  config: Flag.String("config").pipe(Flag.withDescription("sweep file: { preset, set, methods, seeds, knobs, parallel }")),
  force: Flag.Boolean("force").pipe(Flag.withDefault(false), Flag.withDescription("redo the runs whose config changed since they ran (only those)")),
  plugin: pluginFlag,
  out: Flag.String("out").pipe(Flag.optional, Flag.withDescription("sweep directory (a local sweep)")),
  cluster: Flag.String("cluster").pipe(Flag.optional, Flag.withDescription("submit to the cluster in this PostgreSQL (postgres://...) instead; prints the sweep id and returns (docs/cluster.md)")),
  name: Flag.String("name").pipe(Flag.optional, Flag.withDescription("the cluster sweep's name (default: the config file's name without .json)")),
  retryFailed: Flag.Boolean("retry-failed").pipe(Flag.withDefault(false), Flag.withDescription("with --cluster: queue the sweep's failed runs again; they resume from their last stored checkpoint"))
}, (f) => Effect.gen(function*() {
  const spec = readSweepSpec(f.config)
  if (Option.isSome(f.cluster)) {
    const url = f.cluster.value
    return yield* (Effect.suspend(() => {
      // runners load no plug-in files and write no local directory: refuse flags that would be ignored
      if (f.plugin.length > 0 || Option.isSome(f.out) || f.force) {
        throw new ClusterInputError({ field: f.plugin.length > 0 ? "--plugin" : Option.isSome(f.out) ? "--out" : "--force", problem: "cannot be combined with --cluster (use pmdsim pull to get the runs)" })
      }
      return submitToCluster(spec, Option.getOrElse(f.name, () => basename(f.config).replace(/\.json$/i, "")), url, f.retryFailed)
    }))
  }
  if (Option.isNone(f.out)) throw new SweepConfigError({ message: "--out: missing (the sweep directory), or pass --cluster URL" })
  if (Option.isSome(f.name)) throw new SweepConfigError({ message: "--name: only with --cluster" })
  if (f.retryFailed) throw new SweepConfigError({ message: "--retry-failed: only with --cluster (a local sweep reruns what is not done by itself)" })
  // the runs are child processes: they load the same plug-in files (PMDSIM_PLUGINS); names are checked here first
  exportPluginFiles(yield* loadPluginFiles(f.plugin))
  checkPluginNames(planSweep(spec).map((r) => r.config as RunConfig))
  process.exitCode = yield* runSweep(spec, f.out.value, f.force)
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
