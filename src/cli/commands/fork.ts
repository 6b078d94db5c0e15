/**
 * `pmdsim fork DIR --step N --set k=v ... --out DIR2`: a new run that starts from run DIR's
 * checkpoint at step N (policy, optimiser, teacher, memory snapshot, journal) with changed knobs.
 * The source is checked whole (config, checkpoint checksums, memory version, metrics) before --out is
 * touched, so a damaged source leaves nothing behind; the copied checkpoint appears last, by a rename.
 */
import { Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { deepMerge, parseSet, validateConfig } from "../../config/resolve.ts"
import type { RunConfig } from "../../config/RunConfig.ts"
import { makeDirDurable, renameDurable, writeFileDurable } from "../../core/durableFile.ts"
import { readRunCheckpoint } from "../../experiments/checkpoint.ts"
import { readRunConfig } from "../../experiments/resume.ts"
import { checkpointDir, checkpointSteps, FILES, prepareNewRun, requireDirOrAbsent, RunDirError, writeMarker } from "../../experiments/runDir.ts"
import { withRunLock } from "../../experiments/runLock.ts"
import { DiskStore, INDEX_FILE } from "../../memory/store/disk.ts"
import { loadPluginFiles } from "../../plugins/load.ts"
import { resolvePlugins } from "../../plugins/registry.ts"
import { pluginFlag, trainInto } from "./run.ts"

/** Copies a directory tree file by file through the durable file layer. */
const copyTree = (from: string, to: string): void => {
  makeDirDurable(to)
  for (const name of readdirSync(from).sort()) {
    const src = join(from, name)
    if (statSync(src).isDirectory()) copyTree(src, join(to, name))
    else writeFileDurable(join(to, name), readFileSync(src))
  }
}

/** Everything a fork needs from its source, read and verified. */
const checkSource = (dir: string, step: number): void => {
  if (!existsSync(dir)) throw new RunDirError({ dir, problem: "no such run directory" })
  const steps = checkpointSteps(dir)
  if (!steps.includes(step)) throw new RunDirError({ dir, problem: `has no checkpoint at step ${step} (available: ${steps.join(", ") || "none"})` })
  const { run } = readRunCheckpoint(dir, step)
  if (run.memoryHead !== "empty") {
    const memory = join(dir, FILES.memory)
    if (!existsSync(join(memory, INDEX_FILE))) throw new RunDirError({ dir: join(memory, INDEX_FILE), problem: "missing: the run's memory store is gone" })
    if (!DiskStore.open(memory).store.hasVersion(run.memoryHead)) {
      throw new RunDirError({ dir: join(memory, INDEX_FILE), problem: `lacks memory version ${run.memoryHead} named by checkpoint step ${step}` })
    }
  }
  if (!existsSync(join(dir, FILES.metrics))) throw new RunDirError({ dir: join(dir, FILES.metrics), problem: "missing: a fork keeps its source's metrics up to the fork step" })
}

/** The fork's config: the source's config.json with `sets` applied, validated (the source is checked first). */
export const forkConfig = (dir: string, step: number, sets: ReadonlyArray<string>): RunConfig => {
  checkSource(dir, step)
  let raw: unknown = readRunConfig(dir)
  for (const s of sets) {
    const { path, value } = parseSet(s)
    raw = deepMerge(raw, path.reduceRight<unknown>((acc, k) => ({ [k]: acc }), value))
  }
  return validateConfig(raw, `${join(dir, FILES.config)} + --set`)
}

/** Writes the fork into `out` (whose lock the caller holds): marker, config, memory, metrics, lineage, rollouts, and last the checkpoint. */
export const stageFork = (dir: string, step: number, cfg: RunConfig, out: string, force: boolean): void => {
  prepareNewRun(out, force)
  writeMarker(out, cfg, "fork", { dir, step })
  writeFileDurable(join(out, FILES.config), `${JSON.stringify(cfg, null, 2)}\n`)
  if (existsSync(join(dir, FILES.memory))) copyTree(join(dir, FILES.memory), join(out, FILES.memory))
  writeFileDurable(join(out, FILES.metrics), readFileSync(join(dir, FILES.metrics)))
  // the lineage up to the fork step comes along (its first resume cuts it back, as the metrics); a source
  // from before lineage was recorded has none, and the fork's lineage starts at the fork step
  if (existsSync(join(dir, FILES.lineage))) writeFileDurable(join(out, FILES.lineage), readFileSync(join(dir, FILES.lineage)))
  // so do the recorded memory calls (memory-replay); without them the fork records from the fork step on
  if (existsSync(join(dir, FILES.rollouts))) writeFileDurable(join(out, FILES.rollouts), readFileSync(join(dir, FILES.rollouts)))
  const staged = `${checkpointDir(out, step)}.tmp`
  copyTree(checkpointDir(dir, step), staged)
  renameDurable(staged, checkpointDir(out, step))
}

export const forkCommand = Command.make("fork", {
  dir: Argument.String("dir"),
  step: Flag.Int("step").pipe(Flag.withDescription("checkpoint step to start from")),
  set: Flag.String("set").pipe(Flag.atLeast(0), Flag.withDescription("changed config fields (repeatable)")),
  force: Flag.Boolean("force").pipe(Flag.withDefault(false), Flag.withDescription("replace the pmdsim run in --out")),
  plugin: pluginFlag,
  out: Flag.String("out")
}, (f) =>
  Effect.gen(function*() {
    yield* loadPluginFiles(f.plugin)
    const cfg = forkConfig(f.dir, f.step, f.set)
    resolvePlugins(cfg) // an unknown plug-in name is a ConfigError before --out is touched
    requireDirOrAbsent(f.out)
    makeDirDurable(f.out)
    process.exitCode = yield* withRunLock(f.out, "fork", Effect.gen(function*() {
      stageFork(f.dir, f.step, cfg, f.out, f.force)
      return yield* trainInto(cfg, f.out, true)
    }))
  })).pipe(Command.withDescription("start a new run from a stored checkpoint of another, with changed knobs"))
