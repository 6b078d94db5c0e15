/**
 * `pmdsim runner --db URL [--capacity N] [--name NAME] [--host HOST] [--port P]`: joins the cluster whose
 * storage is in that PostgreSQL database and runs its share of the runs until SIGINT / SIGTERM, which
 * hand its shards to the other runners (their runs resume there from their last stored checkpoint).
 * The work is in clusterHandlers.ts, loaded when the command runs.
 */
import { Effect } from "effect"
import { Command, Flag } from "effect/cli"

export const runnerCommand = Command.make("runner", {
  db: Flag.String("db").pipe(Flag.withDescription("the cluster's PostgreSQL: postgres://user@host:port/db")),
  capacity: Flag.Int("capacity").pipe(Flag.withDefault(1), Flag.withDescription("runs at once on this runner, and its share of the runs (default 1)")),
  name: Flag.String("name").pipe(Flag.optional, Flag.withDescription("a name for status (default: hostname:port)")),
  host: Flag.String("host").pipe(Flag.withDefault("127.0.0.1"), Flag.withDescription("the address other runners reach this one at (default 127.0.0.1: one machine only)")),
  port: Flag.Int("port").pipe(Flag.withDefault(34431), Flag.withDescription("TCP port for the other runners and clients (default 34431; one per runner)"))
}, (f) => Effect.flatMap(Effect.promise(() => import("./clusterHandlers.ts")), (h) => h.runRunner(f))).pipe(
  Command.withDescription("join a pmdsim cluster (PostgreSQL) and run its sweeps' runs")
)
