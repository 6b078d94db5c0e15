/** `pmdsim report DIR`: report.html (plots) and CSV files for a run or a sweep directory. */
import { Effect } from "effect"
import { Argument, Command } from "effect/cli"
import { writeReport } from "../../report/index.ts"

export const reportCommand = Command.make("report", { dir: Argument.String("dir") }, ({ dir }) =>
  Effect.gen(function*() {
    const out = yield* Effect.promise(() => writeReport(dir))
    console.log(`report: ${out.html}`)
    for (const c of out.csv) console.log(`csv: ${c}`)
  })).pipe(Command.withDescription("write an HTML report with plots and CSV of every metric for a run or sweep directory"))
