/**
 * Submitting a sweep to a cluster: plan it like the local sweep (same resolved configs, same run names),
 * give each run its content hash, record the sweep under its name, then start the durable workflow. The
 * sweep id is the workflow's execution id, derived from the canonical config hash: resubmitting the same
 * sweep returns the same id; another config under a used name is refused (SweepNameTaken).
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import type { RunConfig } from "../config/RunConfig.ts"
import { hashValue } from "../core/Hash.ts"
import { planSweep, type SweepSpec } from "../experiments/sweep.ts"
import { retryTransient } from "./db.ts"
import { ClusterInputError, SweepNameTaken } from "./errors.ts"
import { BASE_RECIPE_HASH, PMDSIM_VERSION, runIdOf } from "./identity.ts"
import { clientLayer } from "./layers.ts"
import { ensureSchema, T } from "./schema.ts"
import { Sweep } from "./sweepWorkflow.ts"

/** The workflow's payload: what each run computes, under which name; its hash is the sweep's identity. */
export const sweepPayload = (spec: SweepSpec) => {
  const runs = planSweep(spec).map((r) => ({ name: r.name, runId: runIdOf(r.config as RunConfig), configJson: JSON.stringify(r.config) }))
  // names and content hashes only: `parallel` or `baseline` do not change what the runs compute
  const configHash = hashValue({ pmdsim: PMDSIM_VERSION, baseRecipes: BASE_RECIPE_HASH, runs: runs.map((r) => [r.name, r.runId]) })
  return { configHash, runs }
}

const checkName = (name: string, configHash: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.unsafe<{ config_hash: string; sweep_id: string }>(`SELECT config_hash, sweep_id FROM ${T.sweeps} WHERE name = $1`, [name])
    const row = rows[0]
    if (row !== undefined && row.config_hash !== configHash) return yield* new SweepNameTaken({ name, sweepId: row.sweep_id })
  })

/** A sweep's runs in this database: name, id, state and attempt. */
const storedRuns = (sweepId: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql.unsafe<{ name: string; run_id: string; state: string; attempt: number }>(
      `SELECT s.name, s.run_id, r.state, r.attempt FROM ${T.sweepRuns} s JOIN ${T.runs} r ON r.run_id = s.run_id WHERE s.sweep_id = $1 ORDER BY s.name`, [sweepId])
  })

export interface Submitted {
  readonly sweepId: string
  /** the runs this submission started or joined */
  readonly runs: ReadonlyArray<{ readonly name: string }>
  /** runs of the sweep that are failed now (a plain resubmission leaves them failed) */
  readonly failed: ReadonlyArray<string>
}

/**
 * Records the sweep and starts its workflow (or joins it); returns the sweep id. With `retryFailed`, the
 * sweep must exist: its failed runs are queued again at their next attempt, in a new round of the workflow,
 * and resume from their last stored checkpoint. Needs a SqlClient.
 */
export const submitSweep = (spec: SweepSpec, name: string, retryFailed = false) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const payload = sweepPayload(spec)
    // round 0 always asks for attempt 1: a resubmission joins the first execution, whatever was retried since
    const firstRound = { ...payload, round: 0, runs: payload.runs.map((r) => ({ ...r, attempt: 1 })) }
    const sweepId = yield* Sweep.executionId(firstRound)
    yield* retryTransient(ensureSchema)
    yield* retryTransient(checkName(name, payload.configHash))
    if (retryFailed) return yield* retryFailedRuns(payload, name, sweepId)
    // rows first, workflow second: a runner that starts a run at once finds its row to update
    yield* retryTransient(sql.withTransaction(Effect.gen(function*() {
      yield* sql.unsafe(`INSERT INTO ${T.sweeps} (name, config_hash, sweep_id, spec) VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT (name) DO NOTHING`,
        [name, payload.configHash, sweepId, JSON.stringify(spec)])
      for (const r of payload.runs) {
        yield* sql.unsafe(`INSERT INTO ${T.sweepRuns} (sweep_id, name, run_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [sweepId, r.name, r.runId])
        yield* sql.unsafe(`INSERT INTO ${T.runs} (run_id, sweep_id, state) VALUES ($1, $2, 'queued') ON CONFLICT (run_id) DO NOTHING`, [r.runId, sweepId])
      }
    })))
    yield* retryTransient(checkName(name, payload.configHash)) // lost a race for the name to another config
    const started = yield* retryTransient(Sweep.execute(firstRound, { discard: true })).pipe(Effect.provide(clientLayer()))
    if (started !== sweepId) return yield* Effect.die(new Error(`workflow id ${started} differs from the computed ${sweepId}`))
    const failed = (yield* retryTransient(storedRuns(sweepId))).filter((r) => r.state === "failed").map((r) => r.name)
    return { sweepId, runs: payload.runs, failed } satisfies Submitted
  })

/** Queues the sweep's failed runs again (attempt + 1) and starts a workflow round over them. */
const retryFailedRuns = (payload: ReturnType<typeof sweepPayload>, name: string, sweepId: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const round = yield* retryTransient(sql.withTransaction(Effect.gen(function*() {
      // the sweep's row is the lock: two retries of one sweep queue each failed run once
      const sweep = yield* sql.unsafe<{ retries: number }>(`SELECT retries FROM ${T.sweeps} WHERE name = $1 FOR UPDATE`, [name])
      if (sweep[0] === undefined) return yield* new ClusterInputError({ field: "--retry-failed", problem: `no sweep named ${JSON.stringify(name)} in this cluster: submit it first` })
      const failed = (yield* storedRuns(sweepId)).filter((r) => r.state === "failed")
      if (failed.length === 0) return { round: sweep[0].retries, runs: [] as ReadonlyArray<{ name: string; run_id: string; attempt: number }> }
      const ids = failed.map((r) => r.run_id)
      const requeued = yield* sql.unsafe<{ run_id: string; attempt: number }>(
        `UPDATE ${T.runs} SET state = 'queued', error = NULL, attempt = attempt + 1, updated_at = NOW() WHERE run_id = ANY($1::text[]) AND state = 'failed' RETURNING run_id, attempt`, [ids])
      const rows = yield* sql.unsafe<{ retries: number }>(`UPDATE ${T.sweeps} SET retries = retries + 1 WHERE name = $1 RETURNING retries`, [name])
      const attempt = new Map(requeued.map((r) => [r.run_id, r.attempt]))
      return { round: rows[0]!.retries, runs: failed.filter((r) => attempt.has(r.run_id)).map((r) => ({ ...r, attempt: attempt.get(r.run_id)! })) }
    })))
    if (round.runs.length > 0) {
      const byId = new Map(payload.runs.map((r) => [r.runId, r]))
      const runs = round.runs.map((r) => ({ ...byId.get(r.run_id)!, attempt: r.attempt }))
      yield* retryTransient(Sweep.execute({ configHash: payload.configHash, round: round.round, runs }, { discard: true })).pipe(Effect.provide(clientLayer()))
    }
    return { sweepId, runs: round.runs, failed: [] } satisfies Submitted
  })
