/**
 * `pmdsim eval-noise RUN [--step N] [--memory-step M] [--seeds K] [--json]`: evaluates one checkpoint of a run
 * under K evaluation seeds (eval.seed = 1000 + i), holding the run's lock, writes RUN/eval-noise.json and prints,
 * per protocol and figure, the mean, the SD across evaluation seeds, the min and the max in points. With
 * --memory-step the checkpoint's policy reads checkpoint M's memory (a reader x memory cross evaluation:
 * whether memory-augmented accuracy moved with the reader or with the memory), written to its own file.
 * Nothing else in the run directory changes. Bad flags and a missing checkpoint exit 2.
 */
import { Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { DEFAULT_EVAL_NOISE_SEEDS, measureEvalNoise } from "../../experiments/evalNoise.ts"
import { FILES, requireDirOrAbsent, RunDirError } from "../../experiments/runDir.ts"
import { withRunLock } from "../../experiments/runLock.ts"
import { loadPluginFiles } from "../../plugins/load.ts"
import { noiseMetricLabel } from "../../report/html.ts"
import { EVAL_NOISE_FILE, type EvalNoise } from "../../report/load.ts"
import { pluginFlag } from "./run.ts"

const pad = (s: string, n: number): string => s.padEnd(n)
const pts = (x: number): string => (x * 100).toFixed(1).padStart(6)

/** The printed table: one line per protocol and figure, in points. */
export const formatEvalNoise = (dir: string, n: EvalNoise): string => {
  const seeds = n.entries.map((e) => e.evalSeed)
  const lines = [
    `evaluation noise of ${dir} (${n.method}, seed ${n.seed}) at step ${n.step}${n.memoryStep === undefined ? "" : ` reading the memory of step ${n.memoryStep}`}: ${seeds.length} evaluation seeds (${seeds.join(", ")}), points`,
    `${pad("protocol", 16)} ${pad("figure", 26)} ${"mean".padStart(6)} ${"SD".padStart(6)} ${"min".padStart(6)} ${"max".padStart(6)}`,
    ...n.summary.map((s) => `${pad(s.protocol, 16)} ${pad(noiseMetricLabel(s.metric), 26)} ${pts(s.mean)} ${pts(s.sd)} ${pts(s.min)} ${pts(s.max)}`),
    ...n.notes.map((t) => `note: ${t}`)
  ]
  return lines.join("\n")
}

export const evalNoiseCommand = Command.make("eval-noise", {
  dir: Argument.String("dir"),
  step: Flag.Int("step").pipe(Flag.filter((s) => s >= 0, (s) => `--step must be >= 0, got ${s}`), Flag.optional,
    Flag.withDescription("checkpoint step to evaluate (default: the newest)")),
  memoryStep: Flag.Int("memory-step").pipe(Flag.filter((s) => s >= 0, (s) => `--memory-step must be >= 0, got ${s}`), Flag.optional,
    Flag.withDescription("read the memory of this checkpoint instead of the evaluated one's (a reader x memory cross evaluation; written to eval-noise-step-S-memory-M.json)")),
  seeds: Flag.Int("seeds").pipe(Flag.filter((k) => k >= 1 && k <= 1000, (k) => `--seeds must be in [1, 1000], got ${k}`),
    Flag.withDefault(DEFAULT_EVAL_NOISE_SEEDS), Flag.withDescription(`evaluation seeds (default ${DEFAULT_EVAL_NOISE_SEEDS}): eval.seed = 1000, 1001, ...`)),
  json: Flag.Boolean("json").pipe(Flag.withDefault(false), Flag.withDescription(`print ${EVAL_NOISE_FILE} instead of the table`)),
  plugin: pluginFlag
}, (f) =>
  Effect.gen(function*() {
    // a run whose config names a plug-in (a domain, a retriever) is evaluated with the same plug-in
    yield* loadPluginFiles(f.plugin)
    requireDirOrAbsent(f.dir)
    if (!existsSync(join(f.dir, FILES.config)) && !existsSync(join(f.dir, FILES.marker))) {
      throw new RunDirError({ dir: f.dir, problem: existsSync(f.dir) ? "not a pmdsim run directory (no config.json)" : "no such directory" })
    }
    // eval-noise.json is written into the run: one writer at a time (a running run holds the lock)
    const { noise, file } = yield* withRunLock(f.dir, "eval-noise", measureEvalNoise(f.dir, { step: Option.getOrUndefined(f.step), memoryStep: Option.getOrUndefined(f.memoryStep), seeds: f.seeds }))
    console.log(f.json ? JSON.stringify(noise, null, 2) : `${formatEvalNoise(f.dir, noise)}\nwritten: ${join(f.dir, file)}`)
  })).pipe(Command.withDescription("evaluate one checkpoint under several evaluation seeds: the noise evaluation adds to every number (writes eval-noise.json); with --memory-step, reading another checkpoint's memory"))
