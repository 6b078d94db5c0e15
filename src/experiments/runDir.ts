/**
 * The run directory: config.json (fully resolved), summary.json, metrics.jsonl, journal.bin,
 * checkpoints/step-NNNNNN/ and memory/ (the snapshot store), report.html. Files are written
 * atomically (temp + rename); an existing run is never overwritten without `force`.
 */
import { Schema } from "effect"
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs"
import { join } from "node:path"
import type { MetricsRow } from "./metrics.ts"

export class RunDirError extends Schema.TaggedError<RunDirError>()("RunDirError", { dir: Schema.String, problem: Schema.String }) {
  override get message(): string {
    return `${this.dir}: ${this.problem}`
  }
}

export const FILES = {
  config: "config.json",
  summary: "summary.json",
  metrics: "metrics.jsonl",
  journal: "journal.bin",
  checkpoints: "checkpoints",
  memory: "memory",
  report: "report.html"
} as const

/** Writes bytes to `file` atomically: temp file, fsync, rename. */
export const writeAtomic = (file: string, data: string | Uint8Array): void => {
  const tmp = `${file}.${process.pid}.tmp`
  const fd = openSync(tmp, "w")
  try {
    writeSync(fd, typeof data === "string" ? Buffer.from(data, "utf8") : data)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, file)
}

/**
 * Prepares `dir` for a new run: refuses a directory that already holds a run unless `force`
 * (then clears it), creates it otherwise. Returns nothing; throws RunDirError.
 */
export const prepareNewRun = (dir: string, force: boolean): void => {
  if (existsSync(dir)) {
    const entries = readdirSync(dir)
    if (entries.length > 0) {
      if (!force) {
        throw new RunDirError({ dir, problem: `exists and is not empty (${entries.length} entries); pass --force to overwrite it, or --resume to continue it` })
      }
      if (!existsSync(join(dir, FILES.config))) {
        throw new RunDirError({ dir, problem: "exists, is not empty and is not a pmdsim run: refusing to delete it even with --force" })
      }
      rmSync(dir, { recursive: true, force: true })
    }
  }
  mkdirSync(join(dir, FILES.checkpoints), { recursive: true })
}

/** Checkpoint steps present in a run, ascending. */
export const checkpointSteps = (dir: string): Array<number> => {
  const root = join(dir, FILES.checkpoints)
  if (!existsSync(root)) return []
  return readdirSync(root)
    .map((n) => /^step-(\d{6})$/.exec(n))
    .flatMap((m) => (m === null ? [] : [Number(m[1])]))
    .sort((a, b) => a - b)
}

export const checkpointDir = (dir: string, step: number): string => join(dir, FILES.checkpoints, `step-${String(step).padStart(6, "0")}`)

/** metrics.jsonl rows with step < `before` (what a resumed run keeps), rewritten atomically. */
export const truncateMetrics = (dir: string, before: number): void => {
  const file = join(dir, FILES.metrics)
  if (!existsSync(file)) return
  const kept = readFileSync(file, "utf8").split("\n").filter((l) => l.trim().length > 0).filter((l) => (JSON.parse(l) as MetricsRow).step < before)
  writeAtomic(file, kept.map((l) => `${l}\n`).join(""))
}

/** Appends rows to metrics.jsonl (one JSON object a line). */
export const appendMetrics = (dir: string, rows: ReadonlyArray<MetricsRow>): void => {
  if (rows.length === 0) return
  const fd = openSync(join(dir, FILES.metrics), "a")
  try {
    writeSync(fd, rows.map((r) => `${JSON.stringify(r)}\n`).join(""))
  } finally {
    closeSync(fd)
  }
}

export const readJson = (file: string): unknown => {
  try {
    return JSON.parse(readFileSync(file, "utf8"))
  } catch (e) {
    throw new RunDirError({ dir: file, problem: `cannot read JSON: ${(e as Error).message}` })
  }
}
