/** `pmdsim replay DIR`: re-run a finished run from its config and compare the journal step by step. */
import { Effect } from "effect"
import { Argument, Command } from "effect/cli"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { runTraining } from "../../experiments/run.ts"
import { readRunConfig } from "../../experiments/resume.ts"
import { FILES } from "../../experiments/runDir.ts"
import * as Journal from "../../runtime/Journal.ts"
import { firstDivergence } from "../../runtime/Replay.ts"
import { EXIT } from "../failure.ts"

export const replayRun = (dir: string) =>
  Effect.gen(function*() {
    const cfg = readRunConfig(dir)
    const expected = yield* Journal.load(join(dir, FILES.journal))
    const scratch = mkdtempSync(join(tmpdir(), "pmdsim-replay-"))
    try {
      yield* runTraining({ cfg, dir: scratch, resume: false })
      const got = yield* Journal.load(join(scratch, FILES.journal))
      return firstDivergence(expected, got)
    } finally {
      rmSync(scratch, { recursive: true, force: true })
    }
  })

export const replayCommand = Command.make("replay", { dir: Argument.String("dir") }, ({ dir }) =>
  Effect.gen(function*() {
    const d = yield* replayRun(dir)
    if (d === undefined) {
      console.log(`replay of ${dir}: every step's state hash matches`)
      process.exitCode = EXIT.ok
    } else {
      console.log(`replay of ${dir}: diverged at step ${d.step} (${d.actor}, ${d.kind}): expected ${d.expected}, got ${d.got}`)
      process.exitCode = EXIT.diverged
    }
  })).pipe(Command.withDescription("re-run a run from its journal; exit 0 only if every step's state hash matches"))
