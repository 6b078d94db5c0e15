/**
 * A PostgreSQL restart mid-sweep (issue #16): the runners lose their storage for a few seconds (their
 * shard locks, message storage and our snapshots); the sweep must still complete, every run with the
 * local run's final hash.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cliAsync, tmp } from "../experiments/cliHelpers.ts"
import { allDone, localHashes, runRows, type RunnerProcess, startTwoRunners, tearDown, TINY_SET, waitFor, writeSweepFile } from "./harness.ts"
import { startPostgres, type TestPostgres } from "./postgres.ts"

const SEEDS = [1, 2]
const STEPS = 10
const DOWN_MS = 5000

let pg: TestPostgres
let runners: Array<RunnerProcess> = []
const dir = tmp("cluster-pgrestart")

// minutes of lock time-outs: in CI's extra step (npm run test:cluster, .ci/run), not in npm test
describe.runIf(process.env["PMDSIM_CLUSTER_FULL"] === "1")("PostgreSQL restarted mid-sweep (npm run test:cluster)", () => {
  beforeAll(async () => {
    pg = await startPostgres()
    runners = await startTwoRunners(pg)
  }, 90_000)

  afterAll(() => tearDown(runners, pg, dir))

  it("completes a sweep across a PostgreSQL restart, with the local hashes", async () => {
    const sweep = writeSweepFile(dir, "pgrestart.json", { preset: "tiny", set: { ...TINY_SET, steps: STEPS }, methods: ["grpo"], seeds: SEEDS })
    const submit = await cliAsync(["sweep", "--config", sweep, "--cluster", pg.url])
    expect(submit.status, submit.output).toBe(0)
    await waitFor("a running run with a stored checkpoint", 180_000, () => runRows(pg).find((r) => r.state === "running" && r.checkpoints > 0), 250)
    pg.pause()
    const downAt = Date.now()
    await new Promise((r) => setTimeout(r, DOWN_MS))
    pg.resume()
    console.log(`PostgreSQL was down for ${((Date.now() - downAt) / 1000).toFixed(1)} s`)
    const done = await allDone(pg, SEEDS.length, "every run done after the restart", () => runners.map((r) => r.output()).join("\n"))
    console.log(`all runs done ${((Date.now() - downAt) / 1000).toFixed(1)} s after PostgreSQL went down`)
    const local = await localHashes(dir, SEEDS, STEPS)
    console.log(`cluster ${done.map((r) => r.hash).sort().join(", ")}\nlocal   ${local.join(", ")}`)
    expect(done.map((r) => r.hash).sort()).toEqual(local)
    // status, a client command, works against the restarted server
    const status = await cliAsync(["status", "--cluster", pg.url, "pgrestart"])
    expect(status.output, status.output).toContain(`2 runs, 2 done`)
  }, 600_000)
})
