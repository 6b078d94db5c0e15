/**
 * What the cluster commands do (runner.ts and cluster.ts hold only their flags). This module, and through it
 * effect/cluster, effect/sql, the PostgreSQL driver and the socket layers (about 150 modules), is imported
 * only when a cluster command runs, so every other command starts without them.
 */
import { Effect, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import { hostname } from "node:os"
import { pgLayer, retryTransient } from "../../cluster/db.ts"
import { ClusterInputError } from "../../cluster/errors.ts"
import { BASE_RECIPE_HASH, CLUSTER_PREFIX, PMDSIM_VERSION } from "../../cluster/identity.ts"
import { runnerLayer } from "../../cluster/layers.ts"
import { pullSweep } from "../../cluster/pull.ts"
import { ensureSchema, T } from "../../cluster/schema.ts"
import { describeRun, describeRunner, findSweep, listRunners, listSweeps, sweepRuns } from "../../cluster/status.ts"
import { submitSweep } from "../../cluster/submit.ts"
import type { SweepSpec } from "../../experiments/sweep.ts"

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

export interface RunnerFlags {
  readonly db: string
  readonly capacity: number
  readonly name: Option.Option<string>
  readonly host: string
  readonly port: number
}

/** `pmdsim runner`: registers this runner, then serves its shards until SIGINT / SIGTERM. */
export const runRunner = (f: RunnerFlags) =>
  Effect.gen(function*() {
    if (f.capacity < 1 || f.capacity > 256) throw new ClusterInputError({ field: "--capacity", problem: `must be in [1, 256], got ${f.capacity}` })
    if (f.port < 1 || f.port > 65535) throw new ClusterInputError({ field: "--port", problem: `must be in [1, 65535], got ${f.port}` })
    if (f.host.trim() === "") throw new ClusterInputError({ field: "--host", problem: "must not be empty" })
    const address = `${f.host}:${f.port}`
    const name = Option.getOrElse(f.name, () => `${hostname()}:${f.port}`)
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
    }).pipe(Effect.provide(pgLayer("--db", f.db)))
  })

/** `pmdsim sweep --config F --cluster URL [--name N] [--retry-failed]`: prints the sweep id and returns. */
export const submitToCluster = (spec: SweepSpec, name: string, url: string, retryFailed: boolean) =>
  Effect.gen(function*() {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new ClusterInputError({ field: "--name", problem: `${JSON.stringify(name)}: use letters, digits, '.', '_' and '-'` })
    const { sweepId, runs, failed } = yield* submitSweep(spec, name, retryFailed).pipe(Effect.provide(pgLayer("--cluster", url)))
    if (retryFailed) console.log(runs.length === 0 ? `sweep ${name}: no failed runs` : `sweep ${name}: ${runs.length} failed run(s) queued again: ${runs.map((r) => r.name).join(", ")}`)
    else console.log(`sweep ${name}: ${runs.length} runs submitted`)
    if (failed.length > 0) console.log(`${failed.length} run(s) failed: ${failed.join(", ")} (see pmdsim status; --retry-failed runs them again from their last checkpoint)`)
    console.log(sweepId)
  })

/** `pmdsim status --cluster URL [SWEEP]`. */
export const showStatus = (url: string, sweep: Option.Option<string>) =>
  Effect.gen(function*() {
    yield* retryTransient(ensureSchema)
    const sweeps = Option.isSome(sweep) ? [yield* retryTransient(findSweep(sweep.value))] : yield* retryTransient(listSweeps)
    for (const s of sweeps) {
      const runs = yield* retryTransient(sweepRuns(s.sweep_id))
      const count = (st: string) => runs.filter((r) => r.state === st).length
      console.log(`sweep ${s.name} ${s.sweep_id}: ${runs.length} runs, ${count("done")} done, ${count("running")} running, ${count("queued")} queued, ${count("failed")} failed`)
      for (const r of runs) console.log(`  ${r.name}  ${describeRun(r)}`)
    }
    const runners = yield* retryTransient(listRunners)
    console.log(`runners: ${runners.length}`)
    for (const w of runners) console.log(`  ${describeRunner(w)}`)
  }).pipe(Effect.provide(pgLayer("--cluster", url)))

/** `pmdsim pull --cluster URL SWEEP --out DIR`. */
export const pullRuns = (url: string, sweep: string, out: string) =>
  Effect.gen(function*() {
    yield* retryTransient(ensureSchema)
    const r = yield* retryTransient(pullSweep(sweep, out))
    console.log(`pulled ${r.written.length} run(s) of sweep ${r.sweep.name} into ${out}`)
    if (r.skipped.length > 0) console.log(`not finished yet: ${r.skipped.join(", ")}`)
  }).pipe(Effect.provide(pgLayer("--cluster", url)))
