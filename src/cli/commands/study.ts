/**
 * `pmdsim study NAME|FILE --out DIR [--force] [--seeds LIST]`: a study (src/experiments/study.ts) run as its sweep
 * (runSweep: resumable, locked, refuses changed runs without --force), then its claims judged on the
 * finished runs: study-summary.json in DIR, a console table, and the report's "Claims" section.
 * `--seeds` runs it on other seeds (its claims re-checked where it was not written). Exits with the
 * sweep's code.
 */
import { Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { existsSync, readdirSync, statSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { withRunLock } from "../../experiments/runLock.ts"
import { finishedSettings, formatClaimsTable, judgeClaims, parseSeedList, readStudyFile, StudyConfigError, studySummary, writeStudySummary } from "../../experiments/study.ts"
import { exportPluginFiles, loadPluginFiles } from "../../plugins/load.ts"
import { checkPluginNames } from "../../plugins/registry.ts"
import type { RunConfig } from "../../config/RunConfig.ts"
import { planSweep } from "../../experiments/sweep.ts"
import { writeReport } from "../../report/index.ts"
import { EXIT } from "../failure.ts"
import { pluginFlag } from "./run.ts"
import { runSweep } from "./sweep.ts"

/** The package's studies/ folder (shipped study files). */
export const STUDIES_DIR = fileURLToPath(new URL("../../../studies/", import.meta.url))

/** A path to a study file, or the name of one in studies/ ("paper" -> studies/paper.json). */
export const resolveStudyFile = (nameOrFile: string): string => {
  if (existsSync(nameOrFile) && statSync(nameOrFile).isFile()) return nameOrFile
  if (/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(nameOrFile)) {
    const shipped = `${STUDIES_DIR}${nameOrFile.replace(/\.json$/, "")}.json`
    if (existsSync(shipped)) return shipped
  }
  const names = existsSync(STUDIES_DIR) ? readdirSync(STUDIES_DIR).filter((n) => n.endsWith(".json")).map((n) => n.slice(0, -5)).sort() : []
  throw new StudyConfigError({ message: `no study ${JSON.stringify(nameOrFile)}: neither a file nor a shipped study (shipped: ${names.join(", ") || "none"})` })
}

export const runStudy = (nameOrFile: string, dir: string, force = false, pluginFiles: ReadonlyArray<string> = [], seeds?: ReadonlyArray<number>) =>
  Effect.gen(function*() {
    const file = resolveStudyFile(nameOrFile)
    // decoded and checked in full (claims against the plan) before any run starts
    const study = readStudyFile(file, seeds)
    // the runs are child processes: they load the same plug-in files; names are checked here first
    exportPluginFiles(yield* loadPluginFiles(pluginFiles))
    checkPluginNames(planSweep(study.spec.sweep).map((r) => r.config as RunConfig))
    console.log(`study: ${study.spec.question}`)
    const code = yield* runSweep(study.spec.sweep, dir, force)
    // an interrupted sweep stopped before aggregating: rerun to continue, the verdicts come then
    if (code === EXIT.interrupted) return code
    return yield* withRunLock(dir, "study", Effect.gen(function*() {
      const claims = judgeClaims(study.claims, finishedSettings(study.plan, dir))
      writeStudySummary(dir, studySummary(study.spec.question, claims))
      console.log(`\nclaims (better − worse at the same seed, mean ± 95% CI, points; need = seeds for 80% power):\n${formatClaimsTable(claims)}`)
      const report = yield* Effect.promise(() => writeReport(dir))
      console.log(`\nreport with claims: ${report.html}`)
      return code
    }))
  })

export const studyCommand = Command.make("study", {
  study: Argument.String("study").pipe(Argument.withDescription("a study file, or the name of a shipped one (studies/NAME.json)")),
  force: Flag.Boolean("force").pipe(Flag.withDefault(false), Flag.withDescription("redo the runs whose config changed since they ran (only those)")),
  plugin: pluginFlag,
  seeds: Flag.String("seeds").pipe(Flag.optional, Flag.withDescription("run the study on these seeds instead of its own, e.g. 511-520 or 1,4,9: its claims re-checked on fresh seeds")),
  out: Flag.String("out").pipe(Flag.withDescription("study directory (the sweep's runs, study-summary.json, report.html)"))
}, (f) => Effect.gen(function*() {
  const seeds = Option.isSome(f.seeds) ? parseSeedList(f.seeds.value) : undefined
  process.exitCode = yield* runStudy(f.study, f.out, f.force, f.plugin, seeds)
})).pipe(Command.withDescription("a study: its sweep (resumable), then each claim judged holds / reversed / unresolved on paired differences"))
