/** Runner processes, sweep files and waiting, for the cluster tests (PostgreSQL itself: postgres.ts). */
import { type ChildProcess, spawn } from "node:child_process"
import { rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { TABLE_PREFIX } from "../../src/cluster/identity.ts"
import { cliAsync, MAIN, SETS, summaryOf, tmp } from "../experiments/cliHelpers.ts"
import { freePort, type TestPostgres } from "./postgres.ts"

export interface RunnerProcess {
  readonly name: string
  readonly port: number
  readonly child: ChildProcess
  readonly output: () => string
  readonly exited: Promise<number | null>
  /** the runner's TMPDIR, where its runs' working directories live: a SIGKILLed runner cannot remove them */
  readonly tmp: string
}

/**
 * `pmdsim runner` as a user starts it; its output is kept for assertions and failure messages. `env` reaches
 * the runner and the training children it starts (e.g. PMDSIM_CRASH_AT_WRITE, to make its runs fail).
 */
export const startRunner = (db: string, name: string, port: number, capacity = 1, env: Record<string, string> = {}): RunnerProcess => {
  const tmpDir = tmp(`runner-${name}`)
  const child = spawn(process.execPath, [MAIN, "runner", "--db", db, "--name", name, "--port", String(port), "--capacity", String(capacity)],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env, PMDSIM_PLAIN: "1", TMPDIR: tmpDir } })
  let out = ""
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()))
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)))
  return { name, port, child, output: () => out, exited, tmp: tmpDir }
}

/**
 * SIGKILLs a runner, as a crash would. Its training child notices (PMDSIM_PARENT_PID) and stops at its
 * next checkpoint; `removeTmp` (at teardown) deletes the runner's working directories.
 */
export const killRunner = async (r: RunnerProcess, removeTmp = false): Promise<void> => {
  if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill("SIGKILL")
  await r.exited
  if (removeTmp) rmSync(r.tmp, { recursive: true, force: true })
}

/**
 * Polls `check` every `everyMs` until it returns a value, or throws after `timeoutMs` with `what` and what
 * `explain` says of the state then (e.g. the runs table and the runners' output).
 */
export const waitFor = async <A>(
  what: string, timeoutMs: number, check: () => A | undefined | Promise<A | undefined>, everyMs = 500, explain?: () => string
): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${explain === undefined ? "" : `\n${explain()}`}`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

/** The tiny benchmark of test/experiments/cliHelpers.ts (SETS) as a sweep file's "set". */
export const TINY_SET = { base: "scratch", "eval.problems": 4, "domainOptions.clusters": 4, "domainOptions.trainPerCluster": 4, "domainOptions.heldoutPerCluster": 2 }

export const writeSweepFile = (dir: string, file: string, spec: unknown): string => {
  const path = join(dir, file)
  writeFileSync(path, JSON.stringify(spec))
  return path
}

/** Two runners (r1, r2, capacity 1) on `pg`, resolved once both listen. */
export const startTwoRunners = async (pg: TestPostgres): Promise<Array<RunnerProcess>> => {
  const runners = [startRunner(pg.url, "r1", await freePort()), startRunner(pg.url, "r2", await freePort())]
  await waitFor("both runners listening", 60_000, () => runners.every((r) => r.output().includes("Listening on")) || undefined)
  return runners
}

/** Kills the runners (removing their working directories), stops PostgreSQL and removes `dir`. */
export const tearDown = async (runners: ReadonlyArray<RunnerProcess>, pg: TestPostgres | undefined, dir: string): Promise<void> => {
  await Promise.all(runners.map((r) => killRunner(r, true)))
  pg?.stop()
  rmSync(dir, { recursive: true, force: true })
}

/** Every run in the cluster's runs table, with how many checkpoint files its stored snapshot holds. */
export interface RunRow { readonly runId: string; readonly state: string; readonly step: number; readonly runner: string; readonly hash: string; readonly checkpoints: number }
export const runRows = (pg: TestPostgres): Array<RunRow> =>
  pg.psql(`SELECT r.run_id, r.state, r.step, COALESCE(r.runner, ''), COALESCE(r.final_hash, ''),
      (SELECT count(*) FROM ${TABLE_PREFIX}_run_files f WHERE f.run_id = r.run_id AND f.path LIKE 'checkpoints/%')
    FROM ${TABLE_PREFIX}_runs r ORDER BY r.run_id`).trim().split("\n").filter((l) => l !== "").map((l) => {
    const [runId, state, step, runner, hash, checkpoints] = l.split("|") as [string, string, string, string, string, string]
    return { runId, state, step: Number(step), runner, hash, checkpoints: Number(checkpoints) }
  })

/** The runs table and each runner's output: what a cluster test's failure message shows. */
export const clusterState = (pg: TestPostgres, runners: ReadonlyArray<RunnerProcess>): string =>
  [`runs: ${JSON.stringify(runRows(pg), null, 1)}`, ...runners.map((r) => `--- ${r.name} (port ${r.port}):\n${r.output()}`)].join("\n")

/**
 * The final state hashes of tiny grpo runs of `seeds` and `steps` steps made locally, one at a time (sorted);
 * `extra` are further `--set` values (the sweep's own).
 */
export const localHashes = async (dir: string, seeds: ReadonlyArray<number>, steps: number, extra: Record<string, number> = {}): Promise<Array<string>> => {
  const hashes: Array<string> = []
  const sets = Object.entries(extra).flatMap(([k, v]) => ["--set", `${k}=${v}`])
  for (const seed of seeds) {
    const out = join(dir, `local-s${seed}`)
    const r = await cliAsync(["run", "--preset", "tiny", ...SETS, "--set", `steps=${steps}`, ...sets, "--method", "grpo", "--seed", String(seed), "--out", out])
    if (r.status !== 0) throw new Error(`local run s${seed} failed:\n${r.output}`)
    hashes.push(summaryOf(out).finalStateHash)
  }
  return hashes.sort()
}

/** Waits until every one of `n` runs is done (failing fast on a failed one); `who` explains a failure. */
export const allDone = (pg: TestPostgres, n: number, what: string, who: () => string, timeoutMs = 300_000) =>
  waitFor(what, timeoutMs, () => {
    const all = runRows(pg)
    if (all.some((r) => r.state === "failed")) throw new Error(`a run failed:\n${who()}`)
    return all.length === n && all.every((r) => r.state === "done") ? all : undefined
  }, 1000)
