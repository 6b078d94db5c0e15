/**
 * A sweep of 8 tiny runs on the cluster (issue #16): 1 runner against 2, and the cluster's per-run overhead
 * against the local sweep, all measured in this process's run. A throwaway PostgreSQL (as the cluster tests:
 * Debian's postgresql binaries); each cluster measurement gets a fresh database, since runs are named by
 * their content and a second sweep of the same runs would find them done. Runners are started and joined
 * before the clock starts (warm); the clock runs from submitting to the last run stored as done.
 * Target: cluster overhead per run ≤ 10% of the local sweep's time per run (1 runner, capacity 1, against the
 * local sweep one run at a time). Each of the four is measured `rounds` times, interleaved, and the best
 * time is kept: single rounds on an idle machine measured anywhere from −4% to 25% (2026-12-05).
 *
 *   node bench/cluster/sweep.bench.ts [runs=8] [rounds=2]
 */
import { rmSync } from "node:fs"
import { join } from "node:path"
import { TABLE_PREFIX } from "../../src/cluster/identity.ts"
import { cliAsync, tmp } from "../../test/experiments/cliHelpers.ts"
import { killRunner, type RunnerProcess, startRunner, TINY_SET, waitFor, writeSweepFile } from "../../test/cluster/harness.ts"
import { freePort, startPostgres } from "../../test/cluster/postgres.ts"

const RUNS = Number(process.argv[2] ?? 8)
const ROUNDS = Number(process.argv[3] ?? 2)
const seeds = Array.from({ length: RUNS }, (_, i) => i + 1)
const dir = tmp("cluster-bench")
const spec = (parallel: number) => ({ preset: "tiny", set: TINY_SET, methods: ["grpo"], seeds, parallel })
const pg = await startPostgres()

/** Wall seconds of a local sweep, `parallel` runs at a time. */
const local = async (parallel: number, round: number): Promise<number> => {
  const file = writeSweepFile(dir, `local${parallel}.json`, spec(parallel))
  const t0 = performance.now()
  const r = await cliAsync(["sweep", "--config", file, "--out", join(dir, `local${parallel}-${round}`)])
  if (r.status !== 0) throw new Error(`local sweep failed:\n${r.output}`)
  return (performance.now() - t0) / 1000
}

/** Wall seconds from submitting to every run done, on `n` warm runners of capacity 1 over a fresh database. */
const cluster = async (n: number, round: number): Promise<number> => {
  const db = `bench_${n}_${round}`
  pg.psql(`CREATE DATABASE ${db}`)
  const url = pg.url.replace(/\/postgres$/, `/${db}`)
  const runners: Array<RunnerProcess> = []
  try {
    for (let i = 0; i < n; i++) runners.push(startRunner(url, `r${i + 1}`, await freePort()))
    await waitFor(`${n} runner(s) listening`, 90_000, () => runners.every((r) => r.output().includes("Listening on")) || undefined)
    // each runner holds its shards as PostgreSQL advisory locks on its own connection: wait until the
    // shards are spread over all n (a runner that joins takes its share over the next lock refreshes)
    const tJoin = performance.now()
    await waitFor(`shards spread over ${n} runner(s)`, 120_000, () => {
      const counts = pg.psql(`SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
        WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.granted AND d.datname = '${db}' GROUP BY l.pid`).trim().split("\n").filter((x) => x !== "").map(Number)
      const total = counts.reduce((a, c) => a + c, 0)
      return counts.length >= n && counts.every((c) => c >= (0.5 * total) / n) ? true : undefined
    }, 250)
    console.log(`  round ${round + 1}, ${n} runner(s): shards spread ${((performance.now() - tJoin) / 1000).toFixed(1)} s after listening`)
    const file = writeSweepFile(dir, `cluster${n}.json`, spec(1))
    const t0 = performance.now()
    const submit = await cliAsync(["sweep", "--config", file, "--cluster", url])
    if (submit.status !== 0) throw new Error(`submit failed:\n${submit.output}`)
    await waitFor("every run done", 900_000, () => {
      const states = pg.psql(`SELECT state FROM ${TABLE_PREFIX}_runs`, db).trim().split("\n").filter((l) => l !== "")
      if (states.includes("failed")) throw new Error(`a run failed\n${runners.map((r) => r.output()).join("\n")}`)
      return states.length === RUNS && states.every((s) => s === "done") ? true : undefined
    }, 250)
    const seconds = (performance.now() - t0) / 1000
    const placed = pg.psql(`SELECT runner, count(*) FROM ${TABLE_PREFIX}_runs GROUP BY runner ORDER BY runner`, db).trim().replace(/\n/g, ", ")
    console.log(`  round ${round + 1}, ${n} runner(s): ${seconds.toFixed(1)} s, runs per runner ${placed}`)
    return seconds
  } finally {
    await Promise.all(runners.map((r) => killRunner(r, true)))
  }
}

try {
  const best = { local1: Infinity, local2: Infinity, c1: Infinity, c2: Infinity }
  for (let round = 0; round < ROUNDS; round++) {
    const l1 = await local(1, round)
    console.log(`  round ${round + 1}, local sweep 1 at a time: ${l1.toFixed(1)} s`)
    best.local1 = Math.min(best.local1, l1)
    best.c1 = Math.min(best.c1, await cluster(1, round))
    best.local2 = Math.min(best.local2, await local(2, round))
    best.c2 = Math.min(best.c2, await cluster(2, round))
  }
  const { local1, local2, c1, c2 } = best
  const perRun = (s: number) => (s / RUNS).toFixed(2)
  const overhead = (c1 - local1) / local1
  console.log(`cluster bench: ${RUNS} tiny runs (grpo, tiny preset, small benchmark), one machine, PostgreSQL on loopback, best of ${ROUNDS} rounds`)
  console.log("| how | wall s | s per run | ratio |")
  console.log("|---|---|---|---|")
  console.log(`| local sweep, 1 at a time | ${local1.toFixed(1)} | ${perRun(local1)} | 1.00 |`)
  console.log(`| local sweep, 2 at a time | ${local2.toFixed(1)} | ${perRun(local2)} | ${(local2 / local1).toFixed(2)} |`)
  console.log(`| cluster, 1 runner (capacity 1) | ${c1.toFixed(1)} | ${perRun(c1)} | ${(c1 / local1).toFixed(2)} |`)
  console.log(`| cluster, 2 runners (capacity 1 each) | ${c2.toFixed(1)} | ${perRun(c2)} | ${(c2 / local1).toFixed(2)} |`)
  console.log(`cluster overhead per run (1 runner vs the local sweep 1 at a time): ${((c1 - local1) / RUNS).toFixed(2)} s, ${(100 * overhead).toFixed(1)}% (target <= 10%: ${overhead <= 0.1 ? "met" : "not met"})`)
  console.log(`2 runners vs 1: ${(c1 / c2).toFixed(2)}x (hash placement: the split between runners is uneven for few runs)`)
} finally {
  pg.stop()
  rmSync(dir, { recursive: true, force: true })
}
