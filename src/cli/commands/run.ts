/** `pmdsim run`: one training run into --out. */
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { resolveConfig, validateConfig } from "../../config/resolve.ts"
import type { RunConfig } from "../../config/RunConfig.ts"
import { runTraining } from "../../experiments/run.ts"
import { FILES, prepareNewRun, readJson, RunDirError } from "../../experiments/runDir.ts"
import { writeReport } from "../../report/index.ts"
import { EXIT } from "../failure.ts"
import { progressPrinter } from "../progress.ts"

export const sharedRunFlags = {
  preset: Flag.String("preset").pipe(Flag.withDefault("default"), Flag.withDescription("embedded preset: tiny | default")),
  config: Flag.String("config").pipe(Flag.optional, Flag.withDescription("JSON file merged over the preset")),
  set: Flag.String("set").pipe(Flag.atLeast(0), Flag.withDescription("override any config field: --set memory.lag=2 (repeatable)"))
}

/** Runs (or resumes) a training run in `dir`, prints progress, writes the report; resolves to an exit code. */
export const trainInto = (cfg: RunConfig, dir: string, resume: boolean) =>
  Effect.gen(function*() {
    const stop = { requested: false }
    const onSigint = () => {
      if (stop.requested) process.exit(EXIT.interrupted)
      stop.requested = true
      console.error("\ninterrupt: finishing the current step and writing a checkpoint (press Ctrl-C again to abort)")
    }
    process.on("SIGINT", onSigint)
    const tty = process.stdout.isTTY === true && process.env["PMDSIM_PLAIN"] === undefined
    const summary = yield* runTraining({ cfg, dir, resume, stop, onRow: progressPrinter(`${cfg.method} s${cfg.seed}`, cfg.steps, tty) })
      .pipe(Effect.ensuring(Effect.sync(() => process.off("SIGINT", onSigint))))
    if (tty) process.stdout.write("\n")
    if (summary.halted) {
      console.log(`interrupted at a checkpoint; continue with: pmdsim run --resume --out ${dir}`)
      return EXIT.interrupted
    }
    const report = yield* Effect.promise(() => writeReport(dir))
    console.log(`done: ${cfg.method} seed ${cfg.seed}, ${cfg.steps} steps, finalStateHash ${summary.finalStateHash}`)
    console.log(`report: ${report.html}`)
    return EXIT.ok
  })

export const runCommand = Command.make("run", {
  ...sharedRunFlags,
  method: Flag.String("method").pipe(Flag.optional, Flag.withDescription("grpo | sdpo | pmd | pmd-transient | frozen-policy | frozen-memory")),
  domain: Flag.String("domain").pipe(Flag.optional, Flag.withDescription("code | science")),
  seed: Flag.Int("seed").pipe(Flag.optional),
  workers: Flag.Int("workers").pipe(Flag.optional, Flag.withDescription("verifier worker threads")),
  threads: Flag.Int("threads").pipe(Flag.optional, Flag.withDescription("wasm XNNPACK threads (results identical for every value)")),
  resume: Flag.Boolean("resume").pipe(Flag.withDefault(false), Flag.withDescription("continue the run in --out from its last checkpoint")),
  force: Flag.Boolean("force").pipe(Flag.withDefault(false), Flag.withDescription("overwrite an existing run in --out")),
  out: Flag.String("out").pipe(Flag.withDescription("run directory"))
}, (f) =>
  Effect.gen(function*() {
    let cfg: RunConfig
    if (f.resume) {
      if (!existsSync(join(f.out, FILES.config))) throw new RunDirError({ dir: f.out, problem: "has no config.json: nothing to resume" })
      if (existsSync(join(f.out, FILES.summary))) {
        console.log(`${f.out}: the run is already complete (summary.json); nothing to resume`)
        return
      }
      cfg = validateConfig(readJson(join(f.out, FILES.config)), join(f.out, FILES.config))
    } else {
      cfg = resolveConfig({
        preset: f.preset, file: Option.getOrUndefined(f.config), sets: f.set,
        overrides: { method: Option.getOrUndefined(f.method), domain: Option.getOrUndefined(f.domain), seed: Option.getOrUndefined(f.seed), workers: Option.getOrUndefined(f.workers), threads: Option.getOrUndefined(f.threads) }
      })
      prepareNewRun(f.out, f.force)
    }
    const code = yield* trainInto(cfg, f.out, f.resume)
    process.exitCode = code
  })).pipe(Command.withDescription("train one run (GRPO, SDPO, PMD or an ablation) into a run directory"))
