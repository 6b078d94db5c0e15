/**
 * The Run entity's handler on a runner: hydrate a temp run directory from PostgreSQL (the files of an
 * earlier attempt, if any: that is how a run resumes on another runner), run `pmdsim run [--resume]` in a
 * child process, store a snapshot of the directory whenever a new checkpoint appears and at the end, and
 * answer with the final state hash. At most `capacity` runs train at once per runner (the final upload runs
 * after the slot is freed): the semaphore is built once per runner, outside the entity builder, which runs
 * once per entity activation.
 */
import { Effect, Fiber, Layer, Schedule, Semaphore } from "effect"
import { SqlClient } from "effect/sql"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { FILES } from "../experiments/runDir.ts"
import { lastTrainStep, metricsRows, newestCheckpoint, hydrateRunDir, uploadRunDir } from "./artifacts.ts"
import { retryTransient } from "./db.ts"
import { RunFailed } from "./errors.ts"
import { Run } from "./protocol.ts"
import { spawnRun } from "./runProcess.ts"
import { T } from "./schema.ts"

/** How often the handler looks for a new checkpoint and the current step (cheap: one readdir, one read). */
const POLL = "2 seconds"

const stepOf = (ckpt: string): number => (ckpt === "" ? 0 : Number(ckpt.slice("step-".length)))

const readMetricsStep = (dir: string): number => {
  try {
    return lastTrainStep(metricsRows(readFileSync(join(dir, FILES.metrics), "utf8")))
  } catch {
    return 0
  }
}

/**
 * The stored outcome of a run that already finished, or undefined. An Execute can be delivered again after
 * its run is done: when PostgreSQL went away before the reply was saved, the message is still unprocessed
 * when it comes back (seen in CI: test/cluster/pgRestart.test.ts). Running it again would mark a done run
 * `running` for as long as the resume takes and redo work; its files were stored before it was marked done,
 * so the stored hash is the answer.
 */
const finishedOutcome = (runId: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* retryTransient(sql.unsafe<{ runner: string | null; step: number; final_hash: string }>(
      `SELECT runner, step, final_hash FROM ${T.runs} WHERE run_id = $1 AND state = 'done' AND final_hash IS NOT NULL`, [runId]))
    const row = rows[0]
    return row === undefined ? undefined : { hash: row.final_hash, runner: row.runner ?? "", resumedFrom: Number(row.step) }
  })

/**
 * One run: train under a slot (the child is what the capacity bounds), then store its final snapshot with
 * the slot already free, so the next run's child starts while this one uploads. A run already done answers
 * with its stored outcome (finishedOutcome).
 */
const execute = (runId: string, configJson: string, runner: string, slots: Semaphore.Semaphore) =>
  Effect.scoped(Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const finished = yield* finishedOutcome(runId)
    if (finished !== undefined) {
      yield* Effect.logInfo(`run ${runId.slice(0, 16)} is already done (${finished.hash}): its stored outcome answers the repeated request`)
      return finished
    }
    const base = yield* Effect.acquireRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "pmdsim-runner-"))),
      (d) => Effect.sync(() => rmSync(d, { recursive: true, force: true }))
    )
    const dir = join(base, "run")
    const stored = new Set<string>()
    const { code, tail, resumedFrom } = yield* slots.withPermits(1)(train(runId, configJson, runner, base, dir, stored))
    const step = yield* retryTransient(uploadRunDir(runId, dir, stored))
    if (code !== 0 || !existsSync(join(dir, FILES.summary))) {
      const message = `pmdsim run exited with code ${code}:\n${tail}`
      yield* retryTransient(sql.unsafe(`UPDATE ${T.runs} SET state = 'failed', step = $2, error = $3, updated_at = NOW() WHERE run_id = $1`, [runId, step, message]))
      return yield* new RunFailed({ runId, message })
    }
    const hash = (JSON.parse(readFileSync(join(dir, FILES.summary), "utf8")) as { finalStateHash: string }).finalStateHash
    yield* retryTransient(sql.unsafe(`UPDATE ${T.runs} SET state = 'done', step = $2, final_hash = $3, updated_at = NOW() WHERE run_id = $1`, [runId, step, hash]))
    yield* Effect.logInfo(`run ${runId.slice(0, 16)} done on ${runner}: ${hash}`)
    return { hash, runner, resumedFrom }
  }))

/** Marks the run running, hydrates `dir` from its stored snapshot, and trains it in a child to its exit. */
const train = (runId: string, configJson: string, runner: string, base: string, dir: string, stored: Set<string>) =>
  Effect.scoped(Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* retryTransient(sql.unsafe(`UPDATE ${T.runs} SET state = 'running', runner = $2, error = NULL, updated_at = NOW() WHERE run_id = $1`, [runId, runner]))
    const hydrated = yield* retryTransient(hydrateRunDir(runId, dir))
    const resume = hydrated > 0 && existsSync(join(dir, FILES.marker))
    const resumedFrom = resume ? stepOf(newestCheckpoint(dir)) : 0
    yield* Effect.logInfo(`run ${runId.slice(0, 16)} on ${runner}: ${resume ? `resuming from step ${resumedFrom}` : "fresh"}`)
    let args: Array<string>
    if (resume) {
      args = ["run", "--resume", "--out", dir]
    } else {
      rmSync(dir, { recursive: true, force: true }) // files without a marker: an attempt that never started
      const cfgFile = join(base, "config.json")
      writeFileSync(cfgFile, configJson)
      args = ["run", "--config", cfgFile, "--out", dir]
    }
    const child = yield* spawnRun(args)
    // while the child trains: a snapshot per new checkpoint, the current step every poll. A failed poll
    // (PostgreSQL away) is logged, never fatal: the next one or the final upload catches up.
    let seen = resume ? newestCheckpoint(dir) : ""
    const poll = Effect.gen(function*() {
      const ckpt = newestCheckpoint(dir)
      if (ckpt !== seen) {
        const step = yield* uploadRunDir(runId, dir, stored)
        seen = ckpt
        yield* sql.unsafe(`UPDATE ${T.runs} SET step = GREATEST(step, $2), updated_at = NOW() WHERE run_id = $1`, [runId, step])
      } else {
        yield* sql.unsafe(`UPDATE ${T.runs} SET step = $2, updated_at = NOW() WHERE run_id = $1 AND state = 'running'`, [runId, readMetricsStep(dir)])
      }
    }).pipe(Effect.catchCause((c) => Effect.logWarning(`run ${runId.slice(0, 16)}: snapshot failed, retrying`, c)))
    const poller = yield* Effect.forkScoped(Effect.repeat(Effect.delay(poll, POLL), Schedule.forever))
    const code = yield* child.exited
    yield* Fiber.interrupt(poller)
    return { code, tail: child.tail(), resumedFrom }
  }))

export const RunEntityLayer = (capacity: number, runner: string) =>
  Layer.unwrap(Effect.gen(function*() {
    const slots = yield* Semaphore.make(capacity)
    return Run.toLayer(Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      return Run.of({
        Execute: ({ payload }) =>
          execute(payload.runId, payload.configJson, runner, slots).pipe(
            // a storage failure that outlived the retries fails the run (stored as its reply), not the runner
            Effect.catchTag("SqlError", (e) => Effect.fail(new RunFailed({ runId: payload.runId, message: `storage: ${e.message}` }))),
            Effect.provideService(SqlClient.SqlClient, sql)
          )
      })
    }))
  }))
