/**
 * A runner SIGKILLed mid-run (issue #16): its runs must finish on the surviving runner, resumed from their
 * last checkpoint stored in PostgreSQL (not from scratch), with the same final hashes as the local runs.
 * With the cluster's default lock timings the survivor takes the dead runner's shards ~30 s after the kill
 * (design doc §4), so this test takes a few minutes on a loaded machine.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cliAsync, tmp } from "../experiments/cliHelpers.ts"
import { allDone, clusterState, killRunner, localHashes, runRows, type RunnerProcess, startTwoRunners, tearDown, TINY_SET, waitFor, writeSweepFile } from "./harness.ts"
import { startPostgres, type TestPostgres } from "./postgres.ts"

const SEEDS = [1, 2]
const STEPS = 20 // tiny checkpoints every 2 steps: time to kill a runner between two checkpoints
// every verification 20 ms late (results unchanged): ~0.3 s a step, so a run outlives several of the runner's
// 2-second snapshot polls. Without it a tiny run on an idle machine could finish between two polls, never
// seen running with a stored checkpoint (seen in CI and locally: the wait below timed out).
const SLOW = { "faults.slow": 1 }

let pg: TestPostgres
let runners: Array<RunnerProcess> = []
const dir = tmp("cluster-failover")

// minutes of lock time-outs: in CI's extra step (npm run test:cluster, .ci/run), not in npm test
describe.runIf(process.env["PMDSIM_CLUSTER_FULL"] === "1")("a runner killed mid-run (npm run test:cluster)", () => {
  beforeAll(async () => {
    pg = await startPostgres()
    runners = await startTwoRunners(pg)
  }, 90_000)

  afterAll(() => tearDown(runners, pg, dir))

  it("resumes a SIGKILLed runner's runs on the other runner from their last checkpoint, with the local hashes", async () => {
    const sweep = writeSweepFile(dir, "failover.json", { preset: "tiny", set: { ...TINY_SET, steps: STEPS, ...SLOW }, methods: ["grpo"], seeds: SEEDS })
    const submit = await cliAsync(["sweep", "--config", sweep, "--cluster", pg.url])
    expect(submit.status, submit.output).toBe(0)
    // a run with a stored checkpoint that is still running: kill its runner
    const victim = await waitFor("a running run with a stored checkpoint", 180_000, () =>
      runRows(pg).find((r) => r.state === "running" && r.checkpoints > 0), 250, () => clusterState(pg, runners))
    const dead = runners.find((r) => victim.runner.endsWith(`:${r.port}`))!
    const survivor = runners.find((r) => r !== dead)!
    const killedAt = Date.now()
    await killRunner(dead)
    console.log(`SIGKILLed ${dead.name} with run ${victim.runId.slice(0, 16)} at step ${victim.step}`)
    const done = await allDone(pg, SEEDS.length, "every run done on the survivor", () => survivor.output(), 240_000)
    console.log(`all runs done ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`)
    const resumed = new RegExp(`run ${victim.runId.slice(0, 16)} on 127\\.0\\.0\\.1:${survivor.port}: resuming from step (\\d+)`).exec(survivor.output())
    expect(resumed, survivor.output()).not.toBeNull()
    expect(Number(resumed![1])).toBeGreaterThan(0)
    console.log(`${survivor.name} resumed run ${victim.runId.slice(0, 16)} from step ${resumed![1]}`)
    expect(done.find((r) => r.runId === victim.runId)!.runner).toBe(`127.0.0.1:${survivor.port}`)
    // the same runs, locally
    const local = await localHashes(dir, SEEDS, STEPS, SLOW)
    console.log(`cluster ${done.map((r) => r.hash).sort().join(", ")}\nlocal   ${local.join(", ")}`)
    expect(done.map((r) => r.hash).sort()).toEqual(local)
  }, 600_000)
})
