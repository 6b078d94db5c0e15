/** `report` as an Effect: report.html (plots) and CSV files for a run or sweep directory, under its lock. */
import { Effect } from "effect"
import { existsSync } from "node:fs"
import { requireDirOrAbsent, RunDirError } from "../experiments/runDir.ts"
import { withRunLock } from "../experiments/runLock.ts"
import { writeReport } from "../report/index.ts"
import { type PmdsimError, typed } from "./errors.ts"

export interface ReportFiles {
  readonly html: string
  readonly csv: ReadonlyArray<string>
}

export const report = (options: { readonly dir: string }): Effect.Effect<ReportFiles, PmdsimError> =>
  typed(Effect.gen(function*() {
    const dir = options.dir
    requireDirOrAbsent(dir)
    if (!existsSync(dir)) return yield* Effect.fail(new RunDirError({ dir, problem: "no such directory" }))
    return yield* withRunLock(dir, "report", Effect.promise(() => writeReport(dir)))
  }))
