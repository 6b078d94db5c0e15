/**
 * `pmdsim replay DIR`: re-run a finished run from its config and compare the journal step by step, then the
 * memory lineage (lineage.jsonl) record by record: lineage is not part of the state hash, so a difference
 * there is reported as a divergence of its own (actor "lineage"), exit 4 like any other. A run from before
 * lineage was recorded has no file: then only the journal is compared, and replay says so.
 */
import { Effect } from "effect"
import { Argument, Command } from "effect/cli"
import { loadPluginFiles } from "../../plugins/load.ts"
import { pluginFlag } from "./run.ts"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { runTraining } from "../../experiments/run.ts"
import { firstLineageDifference } from "../../experiments/lineage.ts"
import { readRunConfig } from "../../experiments/resume.ts"
import { type LineageRecord, readLineageFile } from "../../report/lineageFile.ts"
import { checkpointDir, checkpointSteps, FILES } from "../../experiments/runDir.ts"
import { readRunCheckpoint } from "../../experiments/checkpoint.ts"
import { checkFmaMachine } from "../../experiments/restore.ts"
import { hashValue } from "../../core/Hash.ts"
import * as Journal from "../../runtime/Journal.ts"
import { type Divergence, firstDivergence } from "../../runtime/Replay.ts"
import { EXIT } from "../failure.ts"

/** A replay divergence; `detail` says what differs when the journal's digests alone do not (lineage). */
export type ReplayDivergence = Divergence & { readonly detail?: string }

/** Stored lineage vs the re-run's, as a Divergence (digests of the two records of the first differing step). */
const lineageDivergence = (expected: ReadonlyArray<LineageRecord> | null, scratch: string): ReplayDivergence | undefined => {
  if (expected === null) return undefined
  const got = readLineageFile(join(scratch, FILES.lineage))
  const d = firstLineageDifference(expected, got)
  if (d === undefined) return undefined
  const digest = (records: ReadonlyArray<LineageRecord>) => { const r = records.find((x) => x.step === d.step); return r === undefined ? "<missing>" : hashValue(r) }
  return { index: -1, step: d.step, actor: "lineage", kind: "record", expected: digest(expected), got: digest(got), detail: d.detail }
}

export const replayRun = (dir: string) =>
  Effect.gen(function*() {
    const cfg = readRunConfig(dir)
    // numeric.fma bits are machine-specific: on a machine with another fma fingerprint than the one the run's
    // checkpoints recorded, a replay is refused (exit 2) rather than reported as a divergence
    const newest = cfg.numeric?.fma === true ? checkpointSteps(dir).at(-1) : undefined
    if (newest !== undefined) checkFmaMachine(checkpointDir(dir, newest), readRunCheckpoint(dir, newest).run)
    const expected = yield* Journal.load(join(dir, FILES.journal))
    // read (and check) before the re-run: a damaged file fails in seconds, naming its line
    const expectedLineage = existsSync(join(dir, FILES.lineage)) ? readLineageFile(join(dir, FILES.lineage)) : null
    const scratch = mkdtempSync(join(tmpdir(), "pmdsim-replay-"))
    try {
      yield* runTraining({ cfg, dir: scratch, resume: false })
      const got = yield* Journal.load(join(scratch, FILES.journal))
      const d: ReplayDivergence | undefined = firstDivergence(expected, got) ?? lineageDivergence(expectedLineage, scratch)
      return d
    } finally {
      rmSync(scratch, { recursive: true, force: true })
    }
  })

export const replayCommand = Command.make("replay", { dir: Argument.String("dir"), plugin: pluginFlag }, ({ dir, plugin }) =>
  Effect.gen(function*() {
    yield* loadPluginFiles(plugin)
    const d = yield* replayRun(dir)
    if (d === undefined) {
      const lineage = existsSync(join(dir, FILES.lineage)) ? " and every lineage record" : ` (no ${FILES.lineage}: lineage not compared)`
      console.log(`replay of ${dir}: every step's state hash${lineage} matches`)
      process.exitCode = EXIT.ok
    } else {
      console.log(`replay of ${dir}: diverged at step ${d.step} (${d.actor}, ${d.kind}): expected ${d.expected}, got ${d.got}${d.detail === undefined ? "" : `; ${d.detail}`}`)
      process.exitCode = EXIT.diverged
    }
  })).pipe(Command.withDescription("re-run a run from its journal; exit 0 only if every step's state hash matches"))
