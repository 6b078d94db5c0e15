/** `pmdsim run`: one training run into --out (new, --force, or --resume), holding the directory's lock. */
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { ConfigError, resolveConfig } from "../../config/resolve.ts"
import { presets } from "../../config/presets.ts"
import type { RunConfig } from "../../config/RunConfig.ts"
import { makeDirDurable, writeFileDurable } from "../../core/durableFile.ts"
import { runTraining } from "../../experiments/run.ts"
import { FILES, prepareNewRun, removeOwnTemps, requireDirOrAbsent, RunDirError } from "../../experiments/runDir.ts"
import { withRunLock } from "../../experiments/runLock.ts"
import { readBoundConfig } from "../../experiments/resume.ts"
import { readSummary } from "../../experiments/summaryFile.ts"
import { writeReport } from "../../report/index.ts"
import { chromeTrace, traceBuffer, type TraceSlice } from "../../runtime/Trace.ts"
import { EXIT } from "../failure.ts"
import { progressPrinter } from "../progress.ts"
import { loadPluginFiles } from "../../plugins/load.ts"
import { resolvePlugins } from "../../plugins/registry.ts"

/** `--plugin FILE` (run, sweep, replay, fork): a JS module whose default export registers plug-ins (src/plugins/load.ts). */
export const pluginFlag = Flag.String("plugin").pipe(Flag.atLeast(0), Flag.withDescription("a JS module whose default export registers plug-ins, e.g. a consolidator named in memory.consolidator (repeatable)"))

export const sharedRunFlags = {
  preset: Flag.String("preset").pipe(Flag.optional, Flag.withDescription(`embedded preset: ${Object.keys(presets).join(" | ")} (default: default)`)),
  config: Flag.String("config").pipe(Flag.optional, Flag.withDescription("JSON file merged over the preset")),
  set: Flag.String("set").pipe(Flag.atLeast(0), Flag.withDescription("override any config field: --set memory.lag=2 (repeatable)"))
}

/**
 * Stop requests: SIGINT / SIGTERM (a second one aborts), and, for a child of a sweep or of the npx shim
 * (PMDSIM_PARENT_PID), the death of that parent. Each makes the run stop after the current step with a
 * checkpoint, so nothing is left running unsupervised and nothing is lost.
 */
const stopRequests = (stop: { requested: boolean }): (() => void) => {
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.requested) process.exit(EXIT.interrupted)
    stop.requested = true
    console.error(`\n${signal}: finishing the current step and writing a checkpoint (send it again to abort)`)
  }
  process.on("SIGINT", onSignal)
  process.on("SIGTERM", onSignal)
  const parent = Number(process.env["PMDSIM_PARENT_PID"])
  const watch = Number.isInteger(parent) && parent > 0
    ? setInterval(() => {
      if (process.ppid !== parent && !stop.requested) {
        stop.requested = true
        console.error("the parent process is gone: finishing the current step and writing a checkpoint")
      }
    }, 250)
    : undefined
  watch?.unref()
  return () => {
    process.off("SIGINT", onSignal)
    process.off("SIGTERM", onSignal)
    if (watch !== undefined) clearInterval(watch)
  }
}

/** The trace of this invocation (a resumed run's covers the resumed part), written even when it stops early. */
const writeTrace = (dir: string, slices: ReadonlyArray<TraceSlice>, cfg: RunConfig) => {
  writeFileDurable(join(dir, FILES.trace), JSON.stringify(chromeTrace(slices, `pmdsim ${cfg.method} s${cfg.seed}`)))
  console.log(`trace: ${join(dir, FILES.trace)} (${slices.length} slices; open it in https://ui.perfetto.dev or chrome://tracing)`)
}

/** Runs (or resumes) a training run in `dir`, prints progress, writes the report; resolves to an exit code. */
export const trainInto = (cfg: RunConfig, dir: string, resume: boolean, trace = false) =>
  Effect.gen(function*() {
    const stop = { requested: false }
    const release = stopRequests(stop)
    const tty = process.stdout.isTTY === true && process.env["PMDSIM_PLAIN"] === undefined
    const buffer = trace ? traceBuffer() : undefined
    const summary = yield* runTraining({ cfg, dir, resume, stop, onRow: progressPrinter(`${cfg.method} s${cfg.seed}`, cfg.steps, tty), ...(buffer === undefined ? {} : { trace: buffer.sink }) })
      .pipe(Effect.ensuring(Effect.sync(() => {
        release()
        if (buffer !== undefined) writeTrace(dir, buffer.slices, cfg)
      })))
    if (tty) process.stdout.write("\n")
    if (summary.halted) {
      console.log(`interrupted at a checkpoint; continue with: pmdsim run --resume --out ${dir}`)
      return EXIT.interrupted
    }
    if (summary.memoryLagClampedSteps > 0) {
      console.log(`memory.lag=${cfg.memory.lag} was clamped on ${summary.memoryLagClampedSteps} of ${cfg.steps} steps: the history held fewer older versions, and the teacher read the oldest (metrics.jsonl: memoryLagClamped)`)
    }
    const report = yield* Effect.promise(() => writeReport(dir))
    console.log(`done: ${cfg.method} seed ${cfg.seed}, ${cfg.steps} steps, finalStateHash ${summary.finalStateHash}`)
    console.log(`report: ${report.html}`)
    return EXIT.ok
  })

/** With --resume the run's own config.json is used: flags that would change it are refused, not ignored. */
const refuseChangesOnResume = (f: { preset: Option.Option<string>; config: Option.Option<string>; set: ReadonlyArray<string>; method: Option.Option<string>; domain: Option.Option<string>; seed: Option.Option<number> }) => {
  const given = [
    Option.isSome(f.preset) && "--preset", Option.isSome(f.config) && "--config", f.set.length > 0 && "--set",
    Option.isSome(f.method) && "--method", Option.isSome(f.domain) && "--domain", Option.isSome(f.seed) && "--seed"
  ].filter((x): x is string => x !== false)
  if (given.length > 0) {
    throw new ConfigError({ message: `${given.join(", ")} cannot be combined with --resume (a run continues with its own config.json); to change a run, use pmdsim fork DIR --step N --set ... --out NEW_DIR` })
  }
}

/** Speed-only flags a resume may change (they never change a result). */
const withSpeedFlags = (cfg: RunConfig, workers: Option.Option<number>, threads: Option.Option<number>): RunConfig => ({
  ...cfg,
  ...(Option.isSome(workers) ? { workers: workers.value } : {}),
  ...(Option.isSome(threads) ? { threads: threads.value } : {})
})

export const resumeRun = (dir: string, speed: { workers: Option.Option<number>; threads: Option.Option<number> }, trace = false) =>
  withRunLock(dir, "run --resume", Effect.gen(function*() {
    const cfg = withSpeedFlags(readBoundConfig(dir), speed.workers, speed.threads)
    if (existsSync(join(dir, FILES.summary))) {
      readSummary(join(dir, FILES.summary))
      // killed while writing its report: tidy up and write the report again
      removeOwnTemps(dir)
      if (!existsSync(join(dir, FILES.report))) yield* Effect.promise(() => writeReport(dir))
      console.log(`${dir}: the run is already complete (summary.json); nothing to resume`)
      return EXIT.ok
    }
    return yield* trainInto(cfg, dir, true, trace)
  }))

export const runCommand = Command.make("run", {
  ...sharedRunFlags,
  method: Flag.String("method").pipe(Flag.optional, Flag.withDescription("grpo | sdpo | pmd | pmd-transient | frozen-policy | frozen-memory")),
  domain: Flag.String("domain").pipe(Flag.optional, Flag.withDescription("code | science")),
  seed: Flag.Int("seed").pipe(Flag.optional),
  workers: Flag.Int("workers").pipe(Flag.optional, Flag.withDescription("verifier worker threads (speed only)")),
  threads: Flag.Int("threads").pipe(Flag.optional, Flag.withDescription("wasm XNNPACK threads (speed only: results identical for every value)")),
  resume: Flag.Boolean("resume").pipe(Flag.withDefault(false), Flag.withDescription("continue the run in --out from its last checkpoint")),
  force: Flag.Boolean("force").pipe(Flag.withDefault(false), Flag.withDescription("replace the pmdsim run in --out (only the files a run writes are removed)")),
  trace: Flag.Boolean("trace").pipe(Flag.withDefault(false), Flag.withDescription("write trace.json: what ran when, per actor (Chrome trace format; wall times, never hashed)")),
  plugin: pluginFlag,
  out: Flag.String("out").pipe(Flag.withDescription("run directory"))
}, (f) =>
  Effect.gen(function*() {
    yield* loadPluginFiles(f.plugin)
    requireDirOrAbsent(f.out)
    if (f.resume) {
      refuseChangesOnResume(f)
      if (!existsSync(f.out)) throw new RunDirError({ dir: f.out, problem: "no such run directory: nothing to resume" })
      process.exitCode = yield* resumeRun(f.out, f, f.trace)
      return
    }
    const cfg = resolveConfig({
      preset: Option.getOrUndefined(f.preset), file: Option.getOrUndefined(f.config), sets: f.set,
      overrides: { method: Option.getOrUndefined(f.method), domain: Option.getOrUndefined(f.domain), seed: Option.getOrUndefined(f.seed), workers: Option.getOrUndefined(f.workers), threads: Option.getOrUndefined(f.threads) }
    })
    resolvePlugins(cfg) // an unknown plug-in name is a ConfigError before the run directory is touched
    makeDirDurable(f.out)
    process.exitCode = yield* withRunLock(f.out, "run", Effect.gen(function*() {
      prepareNewRun(f.out, f.force)
      return yield* trainInto(cfg, f.out, false, f.trace)
    }))
  })).pipe(Command.withDescription("train one run (GRPO, SDPO, PMD or an ablation) into a run directory"))
