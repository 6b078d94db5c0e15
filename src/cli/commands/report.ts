/** `pmdsim report DIR`: report.html (plots) and CSV files for a run or a sweep directory, under its lock. */
import { Effect } from "effect"
import { Argument, Command } from "effect/cli"
import { existsSync } from "node:fs"
import { requireDirOrAbsent, RunDirError } from "../../experiments/runDir.ts"
import { withRunLock } from "../../experiments/runLock.ts"
import { writeReport } from "../../report/index.ts"

export const reportCommand = Command.make("report", { dir: Argument.String("dir") }, ({ dir }) =>
  Effect.gen(function*() {
    requireDirOrAbsent(dir)
    if (!existsSync(dir)) throw new RunDirError({ dir, problem: "no such directory" })
    // a report writes into the directory: one writer at a time (a running run or sweep holds the lock)
    const out = yield* withRunLock(dir, "report", Effect.promise(() => writeReport(dir)))
    console.log(`report: ${out.html}`)
    for (const c of out.csv) console.log(`csv: ${c}`)
  })).pipe(Command.withDescription("write an HTML report with plots and CSV of every metric for a run or sweep directory"))
