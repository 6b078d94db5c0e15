/** Running the CLI as a user does, for the end-to-end tests: tiny configs, run directories, waiting on progress. */
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

export const MAIN = join(import.meta.dirname, "..", "..", "src", "cli", "main.ts")
/** A tiny run from scratch weights over a small benchmark: ~4 s. */
export const SETS = ["--set", "base=scratch", "--set", "eval.problems=4", "--set", "domainOptions.clusters=4", "--set", "domainOptions.trainPerCluster=4", "--set", "domainOptions.heldoutPerCluster=2"]

export const cli = (args: ReadonlyArray<string>, env: Readonly<Record<string, string>> = {}): SpawnSyncReturns<string> =>
  spawnSync(process.execPath, [MAIN, ...args], { encoding: "utf8", env: { ...process.env, PMDSIM_PLAIN: "1", ...env } })

/** The same, without blocking the test's event loop (for runs that must be watched or killed). */
export const cliAsync = (args: ReadonlyArray<string>, env: Readonly<Record<string, string>> = {}): Promise<{ status: number | null; signal: NodeJS.Signals | null; output: string }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PMDSIM_PLAIN: "1", ...env } })
    let output = ""
    child.stdout.on("data", (d: Buffer) => (output += d.toString()))
    child.stderr.on("data", (d: Buffer) => (output += d.toString()))
    child.on("close", (status, signal) => resolve({ status, signal, output }))
  })

export const summaryOf = (dir: string) => JSON.parse(readFileSync(join(dir, "summary.json"), "utf8")) as { finalStateHash: string; final: { eval: Array<unknown> } }
export const tmp = (label = "cli") => mkdtempSync(join(tmpdir(), `pmdsim-${label}-`))

/** Steps of the train rows in a run's metrics.jsonl, in file order. */
export const trainSteps = (dir: string): Array<number> =>
  readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { kind: string; step: number })
    .filter((r) => r.kind === "train").map((r) => r.step)

/** Temp files the file layer or a checkpoint could leave, anywhere under `dir`. */
export const tempFiles = (dir: string): Array<string> =>
  readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => /\.\d+\.(tmp|new|stale)$|step-\d{6}\.tmp$/.test(f))

/** Resolves once the run in `dir` has written the train row of `step`. */
export const afterStep = (dir: string, step: number) =>
  new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      const m = existsSync(join(dir, "metrics.jsonl")) ? readFileSync(join(dir, "metrics.jsonl"), "utf8") : ""
      if (m.includes(`"kind":"train","step":${step}`)) {
        clearInterval(poll)
        resolve()
      }
    }, 50)
  })
