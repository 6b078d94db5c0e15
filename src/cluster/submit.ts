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
import { SweepNameTaken } from "./errors.ts"
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

/** Records the sweep and starts its workflow (or joins it); returns the sweep id. Needs a SqlClient. */
export const submitSweep = (spec: SweepSpec, name: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const payload = sweepPayload(spec)
    const sweepId = yield* Sweep.executionId(payload)
    yield* retryTransient(ensureSchema)
    yield* retryTransient(checkName(name, payload.configHash))
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
    const started = yield* retryTransient(Sweep.execute(payload, { discard: true })).pipe(Effect.provide(clientLayer()))
    if (started !== sweepId) return yield* Effect.die(new Error(`workflow id ${started} differs from the computed ${sweepId}`))
    return { sweepId, runs: payload.runs }
  })
