/**
 * The `pmdsim` command line (Effect's CLI module). The only place allowed to read wall time and set
 * exit codes. Subcommands: run, sweep, replay, fork, report, start.
 */
import { Cause, Effect, Exit, Layer } from "effect"
import { Command } from "effect/cli"
import { NodeServices } from "@effect/platform-node"
import { forkCommand } from "./commands/fork.ts"
import { replayCommand } from "./commands/replay.ts"
import { reportCommand } from "./commands/report.ts"
import { runCommand } from "./commands/run.ts"
import { startCommand, sweepCommand } from "./commands/sweep.ts"
import { describeFailure, exitCodeOf } from "./failure.ts"

const pmdsim = Command.make("pmdsim").pipe(
  Command.withDescription("Procedural Memory Distillation, simulated for real: train, sweep, replay, fork and report"),
  Command.withSubcommands([runCommand, sweepCommand, replayCommand, forkCommand, reportCommand, startCommand])
)

const program = Command.run(pmdsim, { version: "0.1.0" }).pipe(Effect.provide(Layer.mergeAll(NodeServices.layer)))

const exit = await Effect.runPromiseExit(program as Effect.Effect<void, unknown>)
if (Exit.isFailure(exit)) {
  const failure = Cause.squash(exit.cause)
  const tag = (failure as { _tag?: string } | null)?._tag
  // the CLI module already printed parse errors and help
  if (tag === undefined || !tag.startsWith("Cli") && tag !== "ShowHelp") console.error(`pmdsim: ${describeFailure(failure)}`)
  process.exitCode = tag !== undefined && (tag.startsWith("Cli") || tag === "MissingOption" || tag === "InvalidValue") ? 2 : exitCodeOf(failure)
}
