/**
 * pmdsim on Effect Cluster against a real PostgreSQL (issue #16): two runner processes, a sweep of three
 * tiny runs. Every run's final state hash must equal the one the same run computes locally; `pull` must
 * give ordinary run directories `report` accepts; resubmitting is idempotent; a different config under a
 * used name and a runner of another version or base recipe hash are refused (exit 2).
 */
import { existsSync, rmSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cliAsync, SETS, summaryOf, tmp } from "../experiments/cliHelpers.ts"
import { type RunnerProcess, startRunner, startTwoRunners, tearDown, TINY_SET, waitFor, writeSweepFile } from "./harness.ts"
import { TABLE_PREFIX } from "../../src/cluster/identity.ts"
import { freePort, startPostgres, type TestPostgres } from "./postgres.ts"

const SEEDS = [1, 2, 3]
const RUNS = `${TABLE_PREFIX}_runs`
const SWEEP_RUNS = `${TABLE_PREFIX}_sweep_runs`

let pg: TestPostgres
let runners: Array<RunnerProcess> = []
const dir = tmp("cluster")
const sweepFile = writeSweepFile(dir, "tiny3.json", { preset: "tiny", set: TINY_SET, methods: ["grpo"], seeds: SEEDS })
let sweepId = ""

/** name -> state|hash|runner of the sweep's runs, from the tables (psql: no node start-up per poll). */
const runStates = (): Map<string, { state: string; hash: string; runner: string }> => {
  const out = pg.psql(`SELECT s.name, r.state, COALESCE(r.final_hash, ''), COALESCE(r.runner, '') FROM ${SWEEP_RUNS} s JOIN ${RUNS} r USING (run_id) WHERE s.sweep_id = '${sweepId}' ORDER BY s.name`)
  return new Map(out.trim().split("\n").filter((l) => l !== "").map((l) => {
    const [name, state, hash, runner] = l.split("|") as [string, string, string, string]
    return [name, { state, hash, runner }]
  }))
}

beforeAll(async () => {
  pg = await startPostgres()
  runners = await startTwoRunners(pg)
}, 90_000)

afterAll(() => tearDown(runners, pg, dir))

describe("a sweep on two runners", () => {
  it("runs every run with the local run's final hash, and shows it in status", async () => {
    const t0 = Date.now()
    // the local runs, one at a time, while the cluster works
    const local = (async () => {
      const hashes = new Map<string, string>()
      for (const seed of SEEDS) {
        const out = join(dir, `local-s${seed}`)
        const r = await cliAsync(["run", "--preset", "tiny", ...SETS, "--method", "grpo", "--seed", String(seed), "--out", out])
        expect(r.status, r.output).toBe(0)
        hashes.set(`grpo-s${seed}`, summaryOf(out).finalStateHash)
      }
      return hashes
    })()
    const submit = await cliAsync(["sweep", "--config", sweepFile, "--cluster", pg.url])
    expect(submit.status, submit.output).toBe(0)
    sweepId = submit.output.trim().split("\n").at(-1)!
    expect(sweepId).toMatch(/^[0-9a-f]{32}$/)
    expect(submit.output).toContain("sweep tiny3: 3 runs submitted")
    const done = await waitFor("the sweep's 3 runs done", 240_000, () => {
      const s = runStates()
      if ([...s.values()].some((r) => r.state === "failed")) throw new Error(`a run failed: ${JSON.stringify([...s])}\n${runners.map((r) => r.output()).join("\n")}`)
      return s.size === 3 && [...s.values()].every((r) => r.state === "done") ? s : undefined
    }, 1000)
    const localHashes = await local
    console.log(`cluster sweep done after ${((Date.now() - t0) / 1000).toFixed(1)} s (local runs meanwhile)`)
    for (const [name, r] of done) {
      console.log(`${name}: cluster ${r.hash} on ${r.runner}, local ${localHashes.get(name)}`)
      expect(r.hash).toBe(localHashes.get(name))
    }
    const status = await cliAsync(["status", "--cluster", pg.url, "tiny3"])
    expect(status.status, status.output).toBe(0)
    expect(status.output).toContain(`sweep tiny3 ${sweepId}: 3 runs, 3 done`)
    for (const [name, r] of done) expect(status.output).toContain(`${name}  done, finalStateHash ${r.hash}`)
    expect(status.output).toMatch(/r1 127\.0\.0\.1:\d+ capacity 1: up/)
    expect(status.output).toMatch(/r2 127\.0\.0\.1:\d+ capacity 1: up/)
  }, 300_000)

  it("pulls ordinary run directories that report accepts, and never writes into a foreign directory", async () => {
    const out = join(dir, "pulled")
    const pull = await cliAsync(["pull", "--cluster", pg.url, "tiny3", "--out", out])
    expect(pull.status, pull.output).toBe(0)
    expect(pull.output).toContain("pulled 3 run(s) of sweep tiny3")
    for (const [name, r] of runStates()) expect(summaryOf(join(out, name)).finalStateHash).toBe(r.hash)
    const report = await cliAsync(["report", out])
    expect(report.status, report.output).toBe(0)
    expect(existsSync(join(out, "report.html"))).toBe(true)
    // a second pull into its own directory is fine; into a directory it did not write, refused
    expect((await cliAsync(["pull", "--cluster", pg.url, sweepId, "--out", out])).status).toBe(0)
    const foreign = join(dir, "local-s1")
    const refused = await cliAsync(["pull", "--cluster", pg.url, "tiny3", "--out", foreign])
    expect(refused.status, refused.output).toBe(2)
    expect(refused.output).toContain("--out")
    expect(summaryOf(foreign).finalStateHash).toBe(runStates().get("grpo-s1")!.hash)
  }, 120_000)

  it("returns the same id when the same sweep is resubmitted, and refuses another config under its name", async () => {
    const again = await cliAsync(["sweep", "--config", sweepFile, "--cluster", pg.url])
    expect(again.status, again.output).toBe(0)
    expect(again.output.trim().split("\n").at(-1)).toBe(sweepId)
    const other = writeSweepFile(dir, "other.json", { preset: "tiny", set: TINY_SET, methods: ["grpo"], seeds: [1, 2] })
    const refused = await cliAsync(["sweep", "--config", other, "--cluster", pg.url, "--name", "tiny3"])
    expect(refused.status, refused.output).toBe(2)
    expect(refused.output).toContain(`sweep name "tiny3" is already used by sweep ${sweepId}`)
    expect(pg.psql(`SELECT count(*) FROM ${TABLE_PREFIX}_sweeps`).trim()).toBe("1")
  }, 120_000)

  it("refuses a runner whose base recipe hash or pmdsim version differs from the cluster's", async () => {
    for (const [db, column, value, field] of [["other_recipe", "recipe_hash", "deadbeef", "base recipe hash"], ["other_version", "version", "0.0.9", "pmdsim version"]] as const) {
      pg.psql(`CREATE DATABASE ${db}`)
      // the recorded identity: this cluster's own (as the first runner recorded it), one field changed
      const [version, recipe] = pg.psql(`SELECT version, recipe_hash FROM pmdsim_cluster`).trim().split("|") as [string, string]
      const row = { version, recipe_hash: recipe, [column]: value }
      pg.psql(`CREATE TABLE pmdsim_cluster (id INT PRIMARY KEY CHECK (id = 1), version TEXT NOT NULL, recipe_hash TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT NOW());
        INSERT INTO pmdsim_cluster (id, version, recipe_hash) VALUES (1, '${row.version}', '${row.recipe_hash}')`, db)
      const r = startRunner(pg.url.replace(/\/postgres$/, `/${db}`), "odd", await freePort())
      const code = await r.exited
      rmSync(r.tmp, { recursive: true, force: true })
      expect(code, r.output()).toBe(2)
      expect(r.output()).toContain(`ClusterMismatch: this cluster runs ${field} ${value}`)
      expect(r.output()).not.toContain("Listening on")
    }
  }, 120_000)
})
