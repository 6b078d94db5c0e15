/**
 * One writer per run (or sweep) directory: `pmdsim.lock`, created atomically (a fully written temp
 * file hard-linked into place: link fails if the name exists), holding the holder's PID, host, process
 * start (wall-clock ms, informational) and command. A second writer fails with RunLocked naming the
 * holder. A lock left by a dead process on this host is taken over, and the taker says so.
 *
 * Liveness: `kill(pid, 0)`; on Linux also the process's start tick from /proc, so a PID reused by an
 * unrelated process does not keep a stale lock alive. A lock from another host is never taken over.
 */
import { Effect, Schema } from "effect"
import { existsSync, linkSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs"
import { hostname } from "node:os"
import { join } from "node:path"
import { FILES, RunDirError } from "./runDir.ts"

/** Another process writes this directory (exit 3). */
export class RunLocked extends Schema.TaggedError<RunLocked>()("RunLocked", { dir: Schema.String, holder: Schema.String }) {
  override get message(): string {
    return `${this.dir} is being written by ${this.holder}; wait for it, or stop it (a run stops at a checkpoint on Ctrl-C / SIGTERM)`
  }
}

interface Holder {
  readonly pid: number
  readonly host: string
  readonly startedAtMs: number
  /** /proc/<pid>/stat field 22 (start time in clock ticks since boot), where there is one */
  readonly procStart: string | null
  readonly command: string
}

const procStartOf = (pid: number): string | null => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    // the command name (field 2) may hold spaces and parentheses: count fields after its last ')'
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null
  } catch {
    return null
  }
}

const alive = (h: Holder): boolean => {
  try {
    process.kill(h.pid, 0)
  } catch (e) {
    if ((e as { code?: string }).code !== "EPERM") return false
  }
  const now = procStartOf(h.pid)
  return h.procStart === null || now === null || now === h.procStart
}

const describeHolder = (h: Holder): string => {
  const when = new Intl.DateTimeFormat("en-CA", { dateStyle: "short", timeStyle: "medium", timeZone: "UTC" }).format(h.startedAtMs)
  return `pid ${h.pid} on ${h.host} (${h.command}, started ${when} UTC)`
}

const readHolder = (file: string): Holder | null => {
  try {
    const h = JSON.parse(readFileSync(file, "utf8")) as Holder
    return typeof h?.pid === "number" && typeof h.host === "string" ? h : null
  } catch {
    return null
  }
}

/** Lock temp files (`pmdsim.lock.<pid>.new|stale`) of processes that are gone: a crash mid-acquire. */
const removeDeadTemps = (dir: string): void => {
  for (const n of readdirSync(dir)) {
    const m = /^pmdsim\.lock\.(\d+)\.(new|stale)$/.exec(n)
    if (m === null || Number(m[1]) === process.pid) continue
    let alive = true
    try {
      process.kill(Number(m[1]), 0)
    } catch (e) {
      alive = (e as { code?: string }).code === "EPERM"
    }
    if (!alive) rmSync(join(dir, n), { force: true })
  }
}

export interface RunLock {
  readonly dir: string
  /** a line to print when a stale lock was taken over, else null */
  readonly tookOver: string | null
  release(): void
}

/**
 * Takes the lock of `dir` (which must exist) for `command`, or throws RunLocked. An unreadable lock
 * file (a crash while it was being created is impossible: it is linked whole) is treated as held.
 */
export const acquireRunLock = (dir: string, command: string): RunLock => {
  const file = join(dir, FILES.lock)
  const me: Holder = { pid: process.pid, host: hostname(), startedAtMs: Math.round(performance.timeOrigin), procStart: procStartOf(process.pid), command }
  const tmp = `${file}.${process.pid}.new`
  try {
    writeFileSync(tmp, `${JSON.stringify(me)}\n`)
  } catch (e) {
    throw new RunDirError({ dir, problem: `cannot create ${FILES.lock}: ${(e as Error).message}` })
  }
  let tookOver: string | null = null
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, file)
        break
      } catch (e) {
        if ((e as { code?: string }).code !== "EEXIST" || attempt > 0) throw e
      }
      const holder = readHolder(file)
      if (holder === null || holder.host !== me.host || alive(holder)) {
        throw new RunLocked({ dir, holder: holder === null ? `another process (unreadable ${file})` : describeHolder(holder) })
      }
      // stale: move it aside (only one taker can), and make sure what we moved is the dead holder's
      const aside = `${file}.${process.pid}.stale`
      try {
        renameSync(file, aside)
      } catch {
        continue // someone else moved it first: try once more to link ours
      }
      const moved = readHolder(aside)
      if (moved !== null && moved.pid !== holder.pid && alive(moved)) {
        try {
          linkSync(aside, file) // a live lock taken in between: put it back and give way
        } finally {
          unlinkSync(aside)
        }
        throw new RunLocked({ dir, holder: describeHolder(moved) })
      }
      unlinkSync(aside)
      tookOver = `took over the stale lock of ${describeHolder(holder)}: that process is gone`
    }
  } finally {
    if (existsSync(tmp)) unlinkSync(tmp)
  }
  removeDeadTemps(dir)
  return {
    dir,
    tookOver,
    release: () => {
      const h = readHolder(file)
      if (h !== null && h.pid === me.pid && h.host === me.host) unlinkSync(file)
    }
  }
}

/** Runs `body` holding the lock of `dir`; prints a take-over notice; releases on every exit path. */
export const withRunLock = <A, E, R>(dir: string, command: string, body: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const lock = acquireRunLock(dir, command)
      if (lock.tookOver !== null) console.error(`pmdsim: ${dir}: ${lock.tookOver}`)
      return lock
    }),
    () => body,
    (lock) => Effect.sync(() => lock.release())
  )
