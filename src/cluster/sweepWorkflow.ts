/**
 * The durable sweep: a workflow whose execution id comes from the canonical sweep-config hash (its
 * idempotencyKey), so resubmitting the same sweep returns the same id and joins the first execution.
 * One light Activity per run sends Run.Execute and waits. Activities run on the runner that owns the
 * workflow; the runs themselves are placed by the cluster's sharding on any runner (by run id). After a
 * restart the workflow replays: finished activities return their stored result, unfinished ones resend
 * Execute, which the Run entity's primaryKey turns into a join of the first request. A retry of failed runs
 * is another execution (round n) over those runs at their new attempt.
 */
import { Effect, Schema } from "effect"
import { Activity, Workflow } from "effect/workflow"
import { Run } from "./protocol.ts"

export const SweepRun = Schema.Struct({ name: Schema.String, runId: Schema.String, configJson: Schema.String, attempt: Schema.Int })

/** A run's outcome; a failed run is a value, so one failure never interrupts the sweep's other runs. */
export const SweepRunResult = Schema.Struct({
  name: Schema.String,
  runId: Schema.String,
  hash: Schema.NullOr(Schema.String),
  error: Schema.NullOr(Schema.String)
})

export const Sweep = Workflow.make("pmdsim/Sweep", {
  /** round 0: the submitted sweep; round n: the n-th `--retry-failed`, over the runs it queued again */
  payload: { configHash: Schema.String, round: Schema.Int, runs: Schema.Array(SweepRun) },
  success: Schema.Array(SweepRunResult),
  idempotencyKey: ({ configHash, round }) => (round === 0 ? configHash : `${configHash}/retry-${round}`)
})

export const SweepLayer = Sweep.toLayer(Effect.fn(function*(payload, executionId) {
  const clientFor = yield* Run.client
  yield* Effect.logInfo(`sweep ${executionId}: ${payload.runs.length} runs`)
  return yield* Effect.forEach(payload.runs, (run) =>
    Activity.make({
      name: run.attempt <= 1 ? `run/${run.name}` : `run/${run.name}#${run.attempt}`,
      success: SweepRunResult,
      execute: clientFor(run.runId).Execute({ runId: run.runId, configJson: run.configJson, attempt: run.attempt }).pipe(
        Effect.map((r) => ({ name: run.name, runId: run.runId, hash: r.hash, error: null })),
        Effect.catchTag("RunFailed", (e) => Effect.succeed({ name: run.name, runId: run.runId, hash: null, error: e.message })),
        Effect.orDie
      )
    }), { concurrency: "unbounded" })
}))
