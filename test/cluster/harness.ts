/** Runner processes, sweep files and waiting, for the cluster tests (PostgreSQL itself: postgres.ts). */
import { type ChildProcess, spawn } from "node:child_process"
import { rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { MAIN, tmp } from "../experiments/cliHelpers.ts"

export interface RunnerProcess {
  readonly name: string
  readonly port: number
  readonly child: ChildProcess
  readonly output: () => string
  readonly exited: Promise<number | null>
  /** the runner's TMPDIR, where its runs' working directories live: a SIGKILLed runner cannot remove them */
  readonly tmp: string
}

/** `pmdsim runner` as a user starts it; its output is kept for assertions and failure messages. */
export const startRunner = (db: string, name: string, port: number, capacity = 1): RunnerProcess => {
  const tmpDir = tmp(`runner-${name}`)
  const child = spawn(process.execPath, [MAIN, "runner", "--db", db, "--name", name, "--port", String(port), "--capacity", String(capacity)],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PMDSIM_PLAIN: "1", TMPDIR: tmpDir } })
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

/** Polls `check` every `everyMs` until it returns a value, or throws after `timeoutMs` with `what`. */
export const waitFor = async <A>(what: string, timeoutMs: number, check: () => A | undefined | Promise<A | undefined>, everyMs = 500): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
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
