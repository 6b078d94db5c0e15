/**
 * A runner SIGKILLed mid-run (issue #16): its runs must finish on the surviving runner, resumed from their
 * last checkpoint stored in PostgreSQL (not from scratch), with the same final hashes as the local runs.
 * With the cluster's default lock timings the survivor takes the dead runner's shards ~30 s after the kill
 * (design doc §4), so this test takes a few minutes on a loaded machine.
 */
import { rmSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cliAsync, SETS, summaryOf, tmp } from "../experiments/cliHelpers.ts"
import { killRunner, type RunnerProcess, startRunner, TINY_SET, waitFor, writeSweepFile } from "./harness.ts"
import { TABLE_PREFIX } from "../../src/cluster/identity.ts"
import { freePort, startPostgres, type TestPostgres } from "./postgres.ts"

const SEEDS = [1, 2]
const STEPS = 10 // tiny checkpoints every 2 steps: time to kill a runner between two checkpoints

let pg: TestPostgres
let runners: Array<RunnerProcess> = []
const dir = tmp("cluster-failover")

interface Row { readonly runId: string; readonly state: string; readonly step: number; readonly runner: string; readonly hash: string; readonly checkpoints: number }
const rows = (): Array<Row> =>
  pg.psql(`SELECT r.run_id, r.state, r.step, COALESCE(r.runner, ''), COALESCE(r.final_hash, ''),
      (SELECT count(*) FROM ${TABLE_PREFIX}_run_files f WHERE f.run_id = r.run_id AND f.path LIKE 'checkpoints/%')
    FROM ${TABLE_PREFIX}_runs r ORDER BY r.run_id`).trim().split("\n").filter((l) => l !== "").map((l) => {
    const [runId, state, step, runner, hash, checkpoints] = l.split("|") as [string, string, string, string, string, string]
    return { runId, state, step: Number(step), runner, hash, checkpoints: Number(checkpoints) }
  })

// minutes of lock time-outs: in CI's extra step (npm run test:cluster, .ci/run), not in npm test
describe.runIf(process.env["PMDSIM_CLUSTER_FULL"] === "1")("a runner killed mid-run (npm run test:cluster)", () => {
  beforeAll(async () => {
    pg = await startPostgres()
    runners = [startRunner(pg.url, "r1", await freePort()), startRunner(pg.url, "r2", await freePort())]
    await waitFor("both runners listening", 60_000, () => runners.every((r) => r.output().includes("Listening on")) || undefined)
  }, 90_000)

  afterAll(async () => {
    await Promise.all(runners.map((r) => killRunner(r, true)))
    pg?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it("resumes a SIGKILLed runner's runs on the other runner from their last checkpoint, with the local hashes", async () => {
    const sweep = writeSweepFile(dir, "failover.json", { preset: "tiny", set: { ...TINY_SET, steps: STEPS }, methods: ["grpo"], seeds: SEEDS })
    const submit = await cliAsync(["sweep", "--config", sweep, "--cluster", pg.url])
    expect(submit.status, submit.output).toBe(0)
    // a run with a stored checkpoint that is still running: kill its runner
    const victim = await waitFor("a running run with a stored checkpoint", 180_000, () =>
      rows().find((r) => r.state === "running" && r.checkpoints > 0), 250)
    const dead = runners.find((r) => victim.runner.endsWith(`:${r.port}`))!
    const survivor = runners.find((r) => r !== dead)!
    const killedAt = Date.now()
    await killRunner(dead)
    console.log(`SIGKILLed ${dead.name} with run ${victim.runId.slice(0, 16)} at step ${victim.step}`)
    const done = await waitFor("every run done on the survivor", 240_000, () => {
      const all = rows()
      if (all.some((r) => r.state === "failed")) throw new Error(`a run failed:\n${survivor.output()}`)
      return all.length === SEEDS.length && all.every((r) => r.state === "done") ? all : undefined
    }, 1000)
    console.log(`all runs done ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`)
    const resumed = new RegExp(`run ${victim.runId.slice(0, 16)} on 127\\.0\\.0\\.1:${survivor.port}: resuming from step (\\d+)`).exec(survivor.output())
    expect(resumed, survivor.output()).not.toBeNull()
    expect(Number(resumed![1])).toBeGreaterThan(0)
    console.log(`${survivor.name} resumed run ${victim.runId.slice(0, 16)} from step ${resumed![1]}`)
    expect(done.find((r) => r.runId === victim.runId)!.runner).toBe(`127.0.0.1:${survivor.port}`)
    // the same runs, locally
    const local: Array<string> = []
    for (const seed of SEEDS) {
      const out = join(dir, `local-s${seed}`)
      const r = await cliAsync(["run", "--preset", "tiny", ...SETS, "--set", `steps=${STEPS}`, "--method", "grpo", "--seed", String(seed), "--out", out])
      expect(r.status, r.output).toBe(0)
      local.push(summaryOf(out).finalStateHash)
    }
    console.log(`cluster ${done.map((r) => r.hash).sort().join(", ")}\nlocal   ${[...local].sort().join(", ")}`)
    expect(done.map((r) => r.hash).sort()).toEqual([...local].sort())
  }, 600_000)
})
