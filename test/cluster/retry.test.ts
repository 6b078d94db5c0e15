/**
 * A failed cluster run, retried (issue #16): a runner whose training children die at a fixed write (after the
 * run's first checkpoint, PMDSIM_CRASH_AT_WRITE) leaves the run failed; a plain resubmission leaves it failed
 * and says so; `sweep --retry-failed` queues it again at attempt 2 on a healthy runner, where it resumes
 * from its stored checkpoint and ends with the local run's final state hash. A retry with nothing failed
 * changes nothing, and a retry of a sweep never submitted is refused (exit 2).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { TABLE_PREFIX } from "../../src/cluster/identity.ts"
import { cliAsync, tmp } from "../experiments/cliHelpers.ts"
import { allDone, killRunner, localHashes, type RunnerProcess, runRows, startRunner, tearDown, TINY_SET, waitFor, writeSweepFile } from "./harness.ts"
import { freePort, startPostgres, type TestPostgres } from "./postgres.ts"

/**
 * The tiny run's 30th crash point: after its step-2 checkpoint is renamed into place (26) and before its
 * step-4 one (PMDSIM_WRITE_TRACE on a local run lists them). If the run's writes change, this test says so:
 * the run would not fail, or would fail before any checkpoint.
 */
const CRASH_AT = "30"
const SEED = 7

let pg: TestPostgres
const runners: Array<RunnerProcess> = []
const dir = tmp("cluster-retry")
const sweepFile = writeSweepFile(dir, "retry1.json", { preset: "tiny", set: TINY_SET, methods: ["grpo"], seeds: [SEED] })

beforeAll(async () => {
  pg = await startPostgres()
}, 90_000)

afterAll(() => tearDown(runners, pg, dir))

describe("retrying a failed cluster run", () => {
  it("fails on a crashing runner, stays failed on resubmission, and resumes to the local hash with --retry-failed", async () => {
    const never = await cliAsync(["sweep", "--config", sweepFile, "--cluster", pg.url, "--retry-failed"])
    expect(never.status, never.output).toBe(2)
    expect(never.output).toContain(`--retry-failed: no sweep named "retry1"`)

    const crashing = startRunner(pg.url, "crashing", await freePort(), 1, { PMDSIM_CRASH_AT_WRITE: CRASH_AT })
    runners.push(crashing)
    await waitFor("the crashing runner listening", 60_000, () => crashing.output().includes("Listening on") || undefined)
    const submit = await cliAsync(["sweep", "--config", sweepFile, "--cluster", pg.url])
    expect(submit.status, submit.output).toBe(0)
    const sweepId = submit.output.trim().split("\n").at(-1)!
    const failed = await waitFor("the run failed", 120_000, () => {
      const rows = runRows(pg)
      return rows.length === 1 && rows[0]!.state === "failed" ? rows[0]! : undefined
    }, 500)
    expect(failed.checkpoints, "the failed attempt stored its step-2 checkpoint").toBeGreaterThan(0)
    await killRunner(crashing)

    const again = await cliAsync(["sweep", "--config", sweepFile, "--cluster", pg.url])
    expect(again.status, again.output).toBe(0)
    expect(again.output).toContain("1 run(s) failed: grpo-s7")
    expect(again.output.trim().split("\n").at(-1)).toBe(sweepId)
    expect(runRows(pg)[0]!.state).toBe("failed")

    const healthy = startRunner(pg.url, "healthy", await freePort())
    runners.push(healthy)
    const local = localHashes(dir, [SEED], 4)
    const retry = await cliAsync(["sweep", "--config", sweepFile, "--cluster", pg.url, "--retry-failed"])
    expect(retry.status, retry.output).toBe(0)
    expect(retry.output).toContain("sweep retry1: 1 failed run(s) queued again: grpo-s7")
    expect(retry.output.trim().split("\n").at(-1)).toBe(sweepId)
    const [done] = await allDone(pg, 1, "the retried run done", () => healthy.output(), 120_000)
    expect(done!.hash).toBe((await local)[0])
    expect(healthy.output()).toMatch(/resuming from step 2/)
    const status = await cliAsync(["status", "--cluster", pg.url, "retry1"])
    expect(status.output).toMatch(/grpo-s7 {2}done, finalStateHash [0-9a-f]{64} on runner healthy .*, attempt 2/)

    const nothing = await cliAsync(["sweep", "--config", sweepFile, "--cluster", pg.url, "--retry-failed"])
    expect(nothing.status, nothing.output).toBe(0)
    expect(nothing.output).toContain("sweep retry1: no failed runs")
    expect(pg.psql(`SELECT attempt, state FROM ${TABLE_PREFIX}_runs`).trim()).toBe("2|done")
  }, 300_000)
})
