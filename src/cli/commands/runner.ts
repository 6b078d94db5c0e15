/**
 * `pmdsim runner --db URL [--capacity N] [--name NAME] [--host HOST] [--port P]`: joins the cluster whose
 * storage is in that PostgreSQL database and runs its share of the runs until SIGINT / SIGTERM, which
 * hand its shards to the other runners (their runs resume there from their last stored checkpoint).
 */
import { Effect, Layer, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { SqlClient } from "effect/sql"
import { hostname } from "node:os"
import { pgLayer, retryTransient } from "../../cluster/db.ts"
import { ClusterInputError } from "../../cluster/errors.ts"
import { BASE_RECIPE_HASH, CLUSTER_PREFIX, PMDSIM_VERSION } from "../../cluster/identity.ts"
import { runnerLayer } from "../../cluster/layers.ts"
import { ensureSchema, T } from "../../cluster/schema.ts"

/** Resolves on the first SIGINT or SIGTERM (a second one exits at once, as Node would). */
const stopSignal = Effect.callback<string>((resume) => {
  const on = (signal: NodeJS.Signals) => {
    process.off("SIGINT", on)
    process.off("SIGTERM", on)
    process.once(signal, () => process.exit(130))
    resume(Effect.succeed(signal))
  }
  process.on("SIGINT", on)
  process.on("SIGTERM", on)
  return Effect.sync(() => {
    process.off("SIGINT", on)
    process.off("SIGTERM", on)
  })
})

export const runnerCommand = Command.make("runner", {
  db: Flag.String("db").pipe(Flag.withDescription("the cluster's PostgreSQL: postgres://user@host:port/db")),
  capacity: Flag.Int("capacity").pipe(Flag.withDefault(1), Flag.withDescription("runs at once on this runner, and its share of the runs (default 1)")),
  name: Flag.String("name").pipe(Flag.optional, Flag.withDescription("a name for status (default: hostname:port)")),
  host: Flag.String("host").pipe(Flag.withDefault("127.0.0.1"), Flag.withDescription("the address other runners reach this one at (default 127.0.0.1: one machine only)")),
  port: Flag.Int("port").pipe(Flag.withDefault(34431), Flag.withDescription("TCP port for the other runners and clients (default 34431; one per runner)"))
}, (f) => (Effect.gen(function*() {
  if (f.capacity < 1 || f.capacity > 256) throw new ClusterInputError({ field: "--capacity", problem: `must be in [1, 256], got ${f.capacity}` })
  if (f.port < 1 || f.port > 65535) throw new ClusterInputError({ field: "--port", problem: `must be in [1, 65535], got ${f.port}` })
  if (f.host.trim() === "") throw new ClusterInputError({ field: "--host", problem: "must not be empty" })
  const address = `${f.host}:${f.port}`
  const name = Option.getOrElse(f.name, () => `${hostname()}:${f.port}`)
  const Sql = pgLayer("--db", f.db)
  yield* Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // refuses (ClusterMismatch, exit 2) a runner of another pmdsim version or base recipe hash
    yield* retryTransient(ensureSchema)
    yield* sql.unsafe(`INSERT INTO ${T.runners} (address, name, version, recipe_hash, capacity) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (address) DO UPDATE SET name = EXCLUDED.name, version = EXCLUDED.version, recipe_hash = EXCLUDED.recipe_hash, capacity = EXCLUDED.capacity, started_at = NOW()`,
      [address, name, PMDSIM_VERSION, BASE_RECIPE_HASH, f.capacity])
    console.log(`runner ${name} at ${address}, capacity ${f.capacity}, pmdsim ${PMDSIM_VERSION}, base recipes ${BASE_RECIPE_HASH.slice(0, 16)}, tables ${CLUSTER_PREFIX}_*`)
    const signal = yield* Effect.raceFirst(
      Layer.launch(runnerLayer({ host: f.host, port: f.port, capacity: f.capacity })).pipe(Effect.as("")),
      stopSignal
    )
    console.log(`${signal}: runner ${name} stopped; its runs continue on the other runners`)
  }).pipe(Effect.provide(Sql))
}))).pipe(Command.withDescription("join a pmdsim cluster (PostgreSQL) and run its sweeps' runs"))
