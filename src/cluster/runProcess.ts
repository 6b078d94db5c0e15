/**
 * One training run as a child process (`pmdsim run` or `pmdsim run --resume`). Training never runs on the
 * runner's own event loop: the cluster's shard-lock refresh must meet a 10 s deadline, or the runner drops
 * every shard (design doc §4.7); a child also keeps tfjs-wasm's compute to itself. The child is SIGKILLed
 * when the scope closes early (the handler was interrupted: its shard moved, or the runner stops); it also
 * stops by itself at its next checkpoint if the runner dies (PMDSIM_PARENT_PID).
 */
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

// the CLI this runner was started from: main.ts from the sources, main.js from the compiled package
const MAIN = fileURLToPath(new URL(import.meta.url.endsWith(".ts") ? "../cli/main.ts" : "../cli/main.js", import.meta.url))

export interface ChildRun {
  /** resolves with the exit code (1 when killed by a signal) */
  readonly exited: Effect.Effect<number>
  /** the last few KB of its output, for the run's error */
  readonly tail: () => string
}

export const spawnRun = (args: ReadonlyArray<string>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = spawn(process.execPath, [MAIN, ...args], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, PMDSIM_PLAIN: "1", PMDSIM_PARENT_PID: String(process.pid) }
      })
      let out = ""
      const keep = (d: Buffer) => {
        out = (out + d.toString()).slice(-4000)
      }
      child.stdout.on("data", keep)
      child.stderr.on("data", keep)
      const exited = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? 1)))
      return { child, run: { exited: Effect.promise(() => exited), tail: () => out } satisfies ChildRun }
    }),
    ({ child }) => Effect.sync(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
    })
  ).pipe(Effect.map(({ run }) => run))
