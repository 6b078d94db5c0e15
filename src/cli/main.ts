/**
 * The `pmdsim` command line (Effect's CLI module). The only place allowed to read wall time and set
 * exit codes. Subcommands: run, sweep, study, replay, fork, report, eval-noise, start, lineage, memory-replay,
 * and the cluster's runner, status and pull (src/cluster/, docs/cluster.md).
 */
import { Cause, Effect, Exit, Layer } from "effect"
import { Command } from "effect/cli"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { pullCommand, statusCommand } from "./commands/cluster.ts"
import { evalNoiseCommand } from "./commands/evalNoise.ts"
import { forkCommand } from "./commands/fork.ts"
import { lineageCommand } from "./commands/lineage.ts"
import { memoryReplayCommand } from "./commands/memoryReplay.ts"
import { replayCommand } from "./commands/replay.ts"
import { runnerCommand } from "./commands/runner.ts"
import { reportCommand } from "./commands/report.ts"
import { runCommand } from "./commands/run.ts"
import { studyCommand } from "./commands/study.ts"
import { startCommand, sweepCommand } from "./commands/sweep.ts"
import { describeFailure, EXIT, exitCodeOf } from "./failure.ts"

/** effect/cli's parse and validation errors (CliError.ts): all bad input. */
const CLI_ERRORS = new Set(["UnrecognizedOption", "DuplicateOption", "MissingOption", "MissingArgument", "UnexpectedArgument", "InvalidValue", "UnknownSubcommand", "ValidationError", "UserError"])

// Output to a reader that went away (a killed sweep, a closed pipe) is lost, not fatal: the run carries on
// (and a sweep's child stops at its next checkpoint once it sees its parent gone, PMDSIM_PARENT_PID).
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e
  })
}

const pmdsim = Command.make("pmdsim").pipe(
  Command.withDescription("Procedural Memory Distillation, simulated for real: train, sweep, replay, fork and report"),
  Command.withSubcommands([runCommand, sweepCommand, studyCommand, replayCommand, forkCommand, reportCommand, evalNoiseCommand, startCommand, lineageCommand, memoryReplayCommand, runnerCommand, statusCommand, pullCommand])
)

const program = Command.run(pmdsim, { version: "0.1.0" }).pipe(Effect.provide(Layer.mergeAll(NodeServices.layer)))

const exit = await Effect.runPromiseExit(program as Effect.Effect<void, unknown>)
if (Exit.isFailure(exit)) {
  const failure = Cause.squash(exit.cause)
  const tag = (failure as { _tag?: string } | null)?._tag
  // the CLI module already printed parse errors and help; a bad flag or argument is bad input (exit 2),
  // an explicit --help is not a failure
  const cliError = tag !== undefined && (tag === "ShowHelp" || CLI_ERRORS.has(tag))
  if (!cliError) console.error(`pmdsim: ${describeFailure(failure)}`)
  process.exitCode = tag === "ShowHelp"
    ? ((failure as { errors?: ReadonlyArray<unknown> }).errors?.length ?? 0) > 0 ? EXIT.badInput : EXIT.ok
    : cliError ? EXIT.badInput : exitCodeOf(failure)
}
