/**
 * `npm run cluster:demo`: pmdsim past one machine, end to end on this one. A throwaway PostgreSQL (Debian's
 * `postgresql` package; initdb into a temp dir, a free loopback port), two `pmdsim runner` processes, a
 * sweep of three tiny runs submitted with `pmdsim sweep --cluster`, watched with `pmdsim status`, pulled with
 * `pmdsim pull`; meanwhile the same three runs locally. Prints each run's cluster hash beside the local
 * one and ends with `cluster demo ok` (exit 0) when every pair is equal; everything is removed afterwards.
 *
 *   npm run cluster:demo
 */
import { rmSync } from "node:fs"
import { join } from "node:path"
import { TABLE_PREFIX } from "../src/cluster/identity.ts"
import { cliAsync, SETS, summaryOf, tmp } from "../test/experiments/cliHelpers.ts"
import { killRunner, type RunnerProcess, startRunner, TINY_SET, waitFor, writeSweepFile } from "../test/cluster/harness.ts"
import { freePort, startPostgres } from "../test/cluster/postgres.ts"

const SEEDS = [1, 2, 3]
const dir = tmp("cluster-demo")
const say = (line: string) => console.log(`[demo] ${line}`)

const pg = await startPostgres()
let runners: Array<RunnerProcess> = []
let ok = false
try {
  say(`PostgreSQL up: ${pg.url}`)
  runners = [startRunner(pg.url, "r1", await freePort()), startRunner(pg.url, "r2", await freePort())]
  await waitFor("both runners listening", 90_000, () => runners.every((r) => r.output().includes("Listening on")) || undefined)
  say(`runners r1 (port ${runners[0]!.port}) and r2 (port ${runners[1]!.port}) joined`)

  const sweepFile = writeSweepFile(dir, "demo.json", { preset: "tiny", set: TINY_SET, methods: ["grpo"], seeds: SEEDS })
  const submit = await cliAsync(["sweep", "--config", sweepFile, "--cluster", pg.url])
  if (submit.status !== 0) throw new Error(`sweep --cluster failed:\n${submit.output}`)
  say(`submitted: ${submit.output.trim().split("\n").join(" | ")}`)

  const local = new Map<string, string>()
  for (const seed of SEEDS) {
    const out = join(dir, `local-s${seed}`)
    const r = await cliAsync(["run", "--preset", "tiny", ...SETS, "--method", "grpo", "--seed", String(seed), "--out", out])
    if (r.status !== 0) throw new Error(`local run s${seed} failed:\n${r.output}`)
    local.set(`grpo-s${seed}`, summaryOf(out).finalStateHash)
  }
  say("local runs done")

  await waitFor("the sweep's runs done", 600_000, () => {
    const states = pg.psql(`SELECT r.state FROM ${TABLE_PREFIX}_sweep_runs s JOIN ${TABLE_PREFIX}_runs r USING (run_id) WHERE s.sweep_id = '${submit.output.trim().split("\n").at(-1)}'`)
      .trim().split("\n").filter((l) => l !== "")
    if (states.includes("failed")) throw new Error(`a run failed\n${runners.map((r) => r.output()).join("\n")}`)
    return states.length === SEEDS.length && states.every((s) => s === "done") ? true : undefined
  }, 1000)
  const status = await cliAsync(["status", "--cluster", pg.url, "demo"])
  console.log(status.output.trim())

  const pulled = join(dir, "pulled")
  const pull = await cliAsync(["pull", "--cluster", pg.url, "demo", "--out", pulled])
  if (pull.status !== 0) throw new Error(`pull failed:\n${pull.output}`)
  say(pull.output.trim())
  console.log("run        cluster (pulled)                                                   local                                                              same")
  ok = true
  for (const [name, hash] of local) {
    const theirs = summaryOf(join(pulled, name)).finalStateHash
    ok &&= theirs === hash
    console.log(`${name.padEnd(10)} ${theirs} ${hash} ${theirs === hash ? "yes" : "NO"}`)
  }
} finally {
  await Promise.all(runners.map((r) => killRunner(r, true)))
  pg.stop()
  rmSync(dir, { recursive: true, force: true })
}
console.log(ok ? "cluster demo ok" : "cluster demo FAILED: a cluster hash differs from the local run's")
process.exit(ok ? 0 : 1)
