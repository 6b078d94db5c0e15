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
import { makeDirDurable, renameDurable, writeFileDurable } from "../../core/durableFile.ts"
import { readRunCheckpoint } from "../../experiments/checkpoint.ts"
import { readRunConfig } from "../../experiments/resume.ts"
import { checkpointDir, checkpointSteps, FILES, prepareNewRun, requireDirOrAbsent, RunDirError, writeMarker } from "../../experiments/runDir.ts"
import { withRunLock } from "../../experiments/runLock.ts"
import { DiskStore, INDEX_FILE } from "../../memory/store/disk.ts"
import { trainInto } from "./run.ts"

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

export const forkCommand = Command.make("fork", {
  dir: Argument.String("dir"),
  step: Flag.Int("step").pipe(Flag.withDescription("checkpoint step to start from")),
  set: Flag.String("set").pipe(Flag.atLeast(0), Flag.withDescription("changed config fields (repeatable)")),
  force: Flag.Boolean("force").pipe(Flag.withDefault(false), Flag.withDescription("replace the pmdsim run in --out")),
  out: Flag.String("out")
}, (f) =>
  Effect.gen(function*() {
    checkSource(f.dir, f.step)
    let raw: unknown = readRunConfig(f.dir)
    for (const s of f.set) {
      const { path, value } = parseSet(s)
      raw = deepMerge(raw, path.reduceRight<unknown>((acc, k) => ({ [k]: acc }), value))
    }
    const cfg = validateConfig(raw, `${join(f.dir, FILES.config)} + --set`)
    requireDirOrAbsent(f.out)
    makeDirDurable(f.out)
    process.exitCode = yield* withRunLock(f.out, "fork", Effect.gen(function*() {
      prepareNewRun(f.out, f.force)
      writeMarker(f.out, cfg, "fork", { dir: f.dir, step: f.step })
      writeFileDurable(join(f.out, FILES.config), `${JSON.stringify(cfg, null, 2)}\n`)
      if (existsSync(join(f.dir, FILES.memory))) copyTree(join(f.dir, FILES.memory), join(f.out, FILES.memory))
      writeFileDurable(join(f.out, FILES.metrics), readFileSync(join(f.dir, FILES.metrics)))
      const staged = `${checkpointDir(f.out, f.step)}.tmp`
      copyTree(checkpointDir(f.dir, f.step), staged)
      renameDurable(staged, checkpointDir(f.out, f.step))
      return yield* trainInto(cfg, f.out, true)
    }))
  })).pipe(Command.withDescription("start a new run from a stored checkpoint of another, with changed knobs"))
