/**
 * What `pmdsim status` shows, read from pmdsim's tables alone (no cluster client: nothing to start, no
 * start-up race): each run of a sweep (queued / running at step k on runner R / done / failed) and each
 * runner with the cluster's view of it (healthy, last heartbeat).
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { ClusterInputError } from "./errors.ts"
import { T } from "./schema.ts"

export interface RunStatusRow { readonly name: string; readonly run_id: string; readonly state: string; readonly step: number; readonly runner: string | null; readonly runner_name: string | null; readonly final_hash: string | null; readonly error: string | null; readonly attempt: number }
export interface SweepRow { readonly name: string; readonly sweep_id: string; readonly config_hash: string }
export interface RunnerRow { readonly address: string; readonly name: string; readonly capacity: number; readonly healthy: boolean | null; readonly heartbeat_age_s: number | null }

/** A sweep by name or id (ClusterInputError naming SWEEP when neither matches). */
export const findSweep = (sweep: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.unsafe<SweepRow>(`SELECT name, sweep_id, config_hash FROM ${T.sweeps} WHERE name = $1 OR sweep_id = $1 ORDER BY created_at LIMIT 1`, [sweep])
    if (rows[0] === undefined) return yield* new ClusterInputError({ field: "SWEEP", problem: `no sweep named or with id ${JSON.stringify(sweep)} in this cluster` })
    return rows[0]
  })

export const sweepRuns = (sweepId: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql.unsafe<RunStatusRow>(
      `SELECT s.name, s.run_id, r.state, r.step, r.runner, w.name AS runner_name, r.final_hash, r.error, r.attempt
       FROM ${T.sweepRuns} s JOIN ${T.runs} r ON r.run_id = s.run_id LEFT JOIN ${T.runners} w ON w.address = r.runner
       WHERE s.sweep_id = $1 ORDER BY s.name`, [sweepId])
  })

export const listSweeps = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  return yield* sql.unsafe<SweepRow>(`SELECT name, sweep_id, config_hash FROM ${T.sweeps} ORDER BY created_at, name`)
})

/** Runners we registered, joined with the cluster library's table when it exists (a runner has started). */
export const listRunners = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const exists = yield* sql.unsafe<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [T.clusterRunners])
  if (exists[0]?.ok !== true) {
    return yield* sql.unsafe<RunnerRow>(`SELECT address, name, capacity, NULL::boolean AS healthy, NULL::float8 AS heartbeat_age_s FROM ${T.runners} ORDER BY address`)
  }
  return yield* sql.unsafe<RunnerRow>(
    `SELECT w.address, w.name, w.capacity, c.healthy, EXTRACT(EPOCH FROM (NOW() - c.last_heartbeat))::float8 AS heartbeat_age_s
     FROM ${T.runners} w LEFT JOIN ${T.clusterRunners} c ON c.address = w.address ORDER BY w.address`)
})

export const describeRun = (r: RunStatusRow): string => {
  const on = (r.runner === null ? "" : ` on runner ${r.runner_name ?? "?"} (${r.runner})`) + (r.attempt > 1 ? `, attempt ${r.attempt}` : "")
  switch (r.state) {
    case "running": return `running at step ${r.step}${on}`
    case "done": return `done, finalStateHash ${r.final_hash ?? "?"}${on}`
    case "failed": return `failed at step ${r.step}${on}: ${(r.error ?? "").trim().split("\n").at(-1) ?? ""}`
    default: return r.step > 0 ? `queued (stopped at step ${r.step})` : "queued"
  }
}

/** A runner is up when the cluster saw its heartbeat recently (its lock expiry is 35 s by default). */
export const describeRunner = (w: RunnerRow): string => {
  const up = w.heartbeat_age_s !== null && w.heartbeat_age_s < 35
  const state = w.heartbeat_age_s === null ? "gone" : up ? (w.healthy === false ? "unhealthy" : "up") : "gone"
  return `${w.name} ${w.address} capacity ${w.capacity}: ${state}${w.heartbeat_age_s === null ? "" : `, last heartbeat ${Math.round(w.heartbeat_age_s)} s ago`}`
}
