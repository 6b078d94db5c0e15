/**
 * `pmdsim fork DIR --step N --set k=v ... --out DIR2`: a new run that starts from run DIR's
 * checkpoint at step N (policy, optimiser, teacher, memory snapshot, journal) with changed knobs.
 */
import { Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { cpSync, existsSync } from "node:fs"
import { join } from "node:path"
import { deepMerge, parseSet, validateConfig } from "../../config/resolve.ts"
import { checkpointDir, checkpointSteps, FILES, prepareNewRun, readJson, RunDirError, writeAtomic } from "../../experiments/runDir.ts"
import { trainInto } from "./run.ts"

export const forkCommand = Command.make("fork", {
  dir: Argument.String("dir"),
  step: Flag.Int("step").pipe(Flag.withDescription("checkpoint step to start from")),
  set: Flag.String("set").pipe(Flag.atLeast(0), Flag.withDescription("changed config fields (repeatable)")),
  force: Flag.Boolean("force").pipe(Flag.withDefault(false)),
  out: Flag.String("out")
}, (f) =>
  Effect.gen(function*() {
    const steps = checkpointSteps(f.dir)
    if (!steps.includes(f.step)) throw new RunDirError({ dir: f.dir, problem: `has no checkpoint at step ${f.step} (available: ${steps.join(", ") || "none"})` })
    let raw = readJson(join(f.dir, FILES.config))
    for (const s of f.set) {
      const { path, value } = parseSet(s)
      raw = deepMerge(raw, path.reduceRight<unknown>((acc, k) => ({ [k]: acc }), value))
    }
    const cfg = validateConfig(raw, `${join(f.dir, FILES.config)} + --set`)
    prepareNewRun(f.out, f.force)
    cpSync(checkpointDir(f.dir, f.step), checkpointDir(f.out, f.step), { recursive: true })
    if (existsSync(join(f.dir, FILES.memory))) cpSync(join(f.dir, FILES.memory), join(f.out, FILES.memory), { recursive: true })
    cpSync(join(f.dir, FILES.metrics), join(f.out, FILES.metrics))
    writeAtomic(join(f.out, FILES.config), `${JSON.stringify(cfg, null, 2)}\n`)
    process.exitCode = yield* trainInto(cfg, f.out, true)
  })).pipe(Command.withDescription("start a new run from a stored checkpoint of another, with changed knobs"))
