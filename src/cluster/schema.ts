/**
 * pmdsim's own tables next to the cluster's (identity.ts names the prefix P):
 *   pmdsim_cluster     one row: the version and base recipe hash this database's cluster runs (checked by every process)
 *   P_blobs            content-addressed file contents: sha256 -> bytea (a checkpoint shared by runs is stored once)
 *   P_run_files        each run's latest snapshot: (run id, relative path) -> sha256; what another runner resumes from
 *   P_runs             one row per run (id = its content hash): queued / running / done / failed, step, runner, final hash,
 *                      attempt (1, then +1 for each `sweep --retry-failed` that queued it again)
 *   P_sweeps           name UNIQUE -> config hash and sweep id (the workflow's execution id), retries (rounds of --retry-failed)
 *   P_sweep_runs       the runs of a sweep under their directory names (two sweeps may share a run)
 *   P_runners          address (host:port, the cluster's identity of a runner) -> name, version, recipe hash, capacity
 *   P_metrics          metrics.jsonl as rows: (run id, line number) -> step, kind, protocol, row jsonb
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { ClusterMismatch } from "./errors.ts"
import { BASE_RECIPE_HASH, PMDSIM_VERSION, TABLE_PREFIX } from "./identity.ts"

const P = TABLE_PREFIX
export const T = {
  blobs: `${P}_blobs`,
  runFiles: `${P}_run_files`,
  runs: `${P}_runs`,
  sweeps: `${P}_sweeps`,
  sweepRuns: `${P}_sweep_runs`,
  runners: `${P}_runners`,
  metrics: `${P}_metrics`,
  /** the cluster library's runner table (SqlRunnerStorage): healthy, last_heartbeat */
  clusterRunners: `${P}_cluster_runners`
} as const

const DDL = [
  `CREATE TABLE IF NOT EXISTS pmdsim_cluster (id INT PRIMARY KEY CHECK (id = 1), version TEXT NOT NULL, recipe_hash TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT NOW())`,
  `CREATE TABLE IF NOT EXISTS ${T.blobs} (sha256 TEXT PRIMARY KEY, bytes BYTEA NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS ${T.runFiles} (run_id TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL REFERENCES ${T.blobs}(sha256), PRIMARY KEY (run_id, path))`,
  `CREATE TABLE IF NOT EXISTS ${T.runs} (run_id TEXT PRIMARY KEY, sweep_id TEXT NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')), step INT NOT NULL DEFAULT 0,
     runner TEXT, final_hash TEXT, error TEXT, updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW())`,
  `CREATE TABLE IF NOT EXISTS ${T.sweeps} (name TEXT PRIMARY KEY, config_hash TEXT NOT NULL, sweep_id TEXT NOT NULL, spec JSONB NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT NOW())`,
  `CREATE TABLE IF NOT EXISTS ${T.sweepRuns} (sweep_id TEXT NOT NULL, name TEXT NOT NULL, run_id TEXT NOT NULL, PRIMARY KEY (sweep_id, name))`,
  `CREATE TABLE IF NOT EXISTS ${T.runners} (address TEXT PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL, recipe_hash TEXT NOT NULL, capacity INT NOT NULL, started_at TIMESTAMPTZ NOT NULL DEFAULT NOW())`,
  `CREATE TABLE IF NOT EXISTS ${T.metrics} (run_id TEXT NOT NULL, seq INT NOT NULL, step INT NOT NULL, kind TEXT NOT NULL, protocol TEXT, row JSONB NOT NULL, PRIMARY KEY (run_id, seq))`,
  // added after the first release of these tables: a database made before them gains them here
  `ALTER TABLE ${T.runs} ADD COLUMN IF NOT EXISTS attempt INT NOT NULL DEFAULT 1`,
  `ALTER TABLE ${T.sweeps} ADD COLUMN IF NOT EXISTS retries INT NOT NULL DEFAULT 0`
]

/**
 * Creates the tables (once; concurrent starts serialise on an advisory lock, since CREATE TABLE IF NOT EXISTS
 * races on PostgreSQL's catalog) and checks this process against the cluster's recorded identity: the first
 * process records it, any later one with another version or base recipe hash fails with ClusterMismatch.
 */
export const ensureSchema = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.withTransaction(Effect.gen(function*() {
    yield* sql.unsafe(`SELECT pg_advisory_xact_lock(hashtext('pmdsim_schema'))`)
    for (const ddl of DDL) yield* sql.unsafe(ddl)
    yield* sql.unsafe(`INSERT INTO pmdsim_cluster (id, version, recipe_hash) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING`, [PMDSIM_VERSION, BASE_RECIPE_HASH])
  }))
  const rows = yield* sql.unsafe<{ version: string; recipe_hash: string }>(`SELECT version, recipe_hash FROM pmdsim_cluster WHERE id = 1`)
  const recorded = rows[0]
  if (recorded === undefined) return yield* Effect.die(new Error("pmdsim_cluster has no row after its insert"))
  if (recorded.version !== PMDSIM_VERSION) return yield* new ClusterMismatch({ field: "pmdsim version", cluster: recorded.version, local: PMDSIM_VERSION })
  if (recorded.recipe_hash !== BASE_RECIPE_HASH) return yield* new ClusterMismatch({ field: "base recipe hash", cluster: recorded.recipe_hash, local: BASE_RECIPE_HASH })
})
