/**
 * A PostgreSQL restart mid-sweep (issue #16): the runners lose their storage for a few seconds (their
 * shard locks, message storage and our snapshots); the sweep must still complete, every run with the
 * local run's final hash.
 */
import { rmSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cliAsync, SETS, summaryOf, tmp } from "../experiments/cliHelpers.ts"
import { killRunner, type RunnerProcess, startRunner, TINY_SET, waitFor, writeSweepFile } from "./harness.ts"
import { TABLE_PREFIX } from "../../src/cluster/identity.ts"
import { freePort, startPostgres, type TestPostgres } from "./postgres.ts"

const SEEDS = [1, 2]
const STEPS = 10
const DOWN_MS = 5000

let pg: TestPostgres
let runners: Array<RunnerProcess> = []
const dir = tmp("cluster-pgrestart")

const states = (): Array<{ state: string; step: number; hash: string; checkpoints: number }> =>
  pg.psql(`SELECT r.state, r.step, COALESCE(r.final_hash, ''),
      (SELECT count(*) FROM ${TABLE_PREFIX}_run_files f WHERE f.run_id = r.run_id AND f.path LIKE 'checkpoints/%')
    FROM ${TABLE_PREFIX}_runs r ORDER BY r.run_id`).trim().split("\n").filter((l) => l !== "").map((l) => {
    const [state, step, hash, checkpoints] = l.split("|") as [string, string, string, string]
    return { state, step: Number(step), hash, checkpoints: Number(checkpoints) }
  })

// minutes of lock time-outs: in CI's extra step (npm run test:cluster, .ci/run), not in npm test
describe.runIf(process.env["PMDSIM_CLUSTER_FULL"] === "1")("PostgreSQL restarted mid-sweep (npm run test:cluster)", () => {
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

  it("completes a sweep across a PostgreSQL restart, with the local hashes", async () => {
    const sweep = writeSweepFile(dir, "pgrestart.json", { preset: "tiny", set: { ...TINY_SET, steps: STEPS }, methods: ["grpo"], seeds: SEEDS })
    const submit = await cliAsync(["sweep", "--config", sweep, "--cluster", pg.url])
    expect(submit.status, submit.output).toBe(0)
    await waitFor("a running run with a stored checkpoint", 180_000, () => states().find((r) => r.state === "running" && r.checkpoints > 0), 250)
    pg.pause()
    const downAt = Date.now()
    await new Promise((r) => setTimeout(r, DOWN_MS))
    pg.resume()
    console.log(`PostgreSQL was down for ${((Date.now() - downAt) / 1000).toFixed(1)} s`)
    const done = await waitFor("every run done after the restart", 300_000, () => {
      const all = states()
      if (all.some((r) => r.state === "failed")) throw new Error(`a run failed:\n${runners.map((r) => r.output()).join("\n")}`)
      return all.length === SEEDS.length && all.every((r) => r.state === "done") ? all : undefined
    }, 1000)
    console.log(`all runs done ${((Date.now() - downAt) / 1000).toFixed(1)} s after PostgreSQL went down`)
    const local: Array<string> = []
    for (const seed of SEEDS) {
      const out = join(dir, `local-s${seed}`)
      const r = await cliAsync(["run", "--preset", "tiny", ...SETS, "--set", `steps=${STEPS}`, "--method", "grpo", "--seed", String(seed), "--out", out])
      expect(r.status, r.output).toBe(0)
      local.push(summaryOf(out).finalStateHash)
    }
    console.log(`cluster ${done.map((r) => r.hash).sort().join(", ")}\nlocal   ${[...local].sort().join(", ")}`)
    expect(done.map((r) => r.hash).sort()).toEqual([...local].sort())
    // status, a client command, works against the restarted server
    const status = await cliAsync(["status", "--cluster", pg.url, "pgrestart"])
    expect(status.output, status.output).toContain(`2 runs, 2 done`)
  }, 600_000)
})
