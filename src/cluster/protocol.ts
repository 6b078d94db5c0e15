/**
 * The `Run` entity: one entity per run, its id the run's content hash (identity.ts), so two sweeps that
 * share a run compute it once. Its only message, Execute, is persisted: it stays in PostgreSQL until a
 * reply is saved, so a runner that dies mid-run leaves it for the next owner of the shard, which resumes
 * the run from its stored files. primaryKey = the run id (with the attempt from the second on): a resend (a
 * workflow replay, a resubmitted sweep) joins the first request instead of starting a second run, while
 * `sweep --retry-failed` raises a failed run's attempt, which makes a new request (a failed request keeps
 * its stored failure as its reply).
 */
import { Schema } from "effect"
import { ClusterSchema, Entity } from "effect/cluster"
import { Rpc } from "effect/rpc"
import { RunFailed } from "./errors.ts"

export const RunResult = Schema.Struct({
  /** summary.json's finalStateHash */
  hash: Schema.String,
  /** host:port of the runner that finished the run */
  runner: Schema.String,
  /** the checkpoint step this runner resumed from (0 = from scratch) */
  resumedFrom: Schema.Int
})

export const Execute = Rpc.make("Execute", {
  payload: { runId: Schema.String, configJson: Schema.String, attempt: Schema.Int },
  success: RunResult,
  error: RunFailed,
  primaryKey: ({ attempt, runId }) => (attempt <= 1 ? runId : `${runId}#${attempt}`)
}).annotate(ClusterSchema.Persisted, true)

export const Run = Entity.make("Run", [Execute])
