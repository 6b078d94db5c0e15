/**
 * The run directory: pmdsim-run.json (the marker, written first), config.json (fully resolved),
 * summary.json, metrics.jsonl, lineage.jsonl (src/report/lineageFile.ts), rollouts.jsonl (src/experiments/memoryReplay/), journal.bin, checkpoints/step-NNNNNN/, memory/ (the snapshot store),
 * report.html and the CSV exports, and pmdsim.lock while a process writes it (runLock.ts).
 *
 * Every file is written through the one file layer (core/durableFile.ts). What a run writes is listed
 * in RUN_ENTRIES: `--force` and a fresh start remove exactly those and the layer's own temp files,
 * nothing else, and only in a directory that carries the marker.
 */
import { Schema } from "effect"
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { appendFileDurable, makeDirDurable, removeDurable, writeFileDurable } from "../core/durableFile.ts"
import { RunConfig } from "../config/RunConfig.ts"
import { resultHash } from "../config/resolve.ts"
import { parseMetricsFile } from "../report/load.ts"
import type { MetricsRow } from "../protocol/metrics.ts"

/** A run directory that is missing, damaged or not a run (exit 2). */
export class RunDirError extends Schema.TaggedError<RunDirError>()("RunDirError", { dir: Schema.String, problem: Schema.String }) {
  override get message(): string {
    return `${this.dir}: ${this.problem}`
  }
}

/** A run that exists and would be overwritten without --force / --resume (exit 3). */
export class RunDirRefused extends Schema.TaggedError<RunDirRefused>()("RunDirRefused", { dir: Schema.String, problem: Schema.String }) {
  override get message(): string {
    return `${this.dir}: ${this.problem}`
  }
}

export const FILES = {
  marker: "pmdsim-run.json",
  config: "config.json",
  summary: "summary.json",
  metrics: "metrics.jsonl",
  lineage: "lineage.jsonl",
  /** what the memory pipeline consumed, per step (src/experiments/memoryReplay/rolloutsFile.ts) */
  rollouts: "rollouts.jsonl",
  journal: "journal.bin",
  checkpoints: "checkpoints",
  memory: "memory",
  report: "report.html",
  trainCsv: "metrics-train.csv",
  evalCsv: "metrics-eval.csv",
  evalNoise: "eval-noise.json",
  trace: "trace.json",
  lock: "pmdsim.lock"
} as const

/** Everything a run writes besides its marker, config and lock: what a fresh start and --force remove. */
const RUN_OUTPUTS = [FILES.summary, FILES.metrics, FILES.lineage, FILES.rollouts, FILES.journal, FILES.checkpoints, FILES.memory, FILES.report, FILES.trainCsv, FILES.evalCsv, FILES.evalNoise, FILES.trace]
/** Everything a run writes (the lock is its own business: runLock.ts). */
export const RUN_ENTRIES: ReadonlyArray<string> = [FILES.marker, FILES.config, ...RUN_OUTPUTS]

/** Temp files of the file layer (`<name>.<pid>.tmp`), of the lock (`.new`) and of checkpoints (`step-N.tmp`). */
const OWN_TEMP = /^(.+\.\d+\.(tmp|new)|step-\d{6}\.tmp)$/

/**
 * What `memory.importFrom` brought in, recorded when the run starts: the source as resolved then, and the
 * content id (PMap root) of the memory imported. A restart before the first checkpoint imports again and
 * is refused if the source's memory changed since (src/experiments/importMemory.ts).
 */
export const MemoryImportRecord = Schema.Struct({
  /** the absolute run directory and checkpoint step the memory came from */
  dir: Schema.String,
  step: Schema.Int,
  /** the source's memory version id at that checkpoint (its history), and the content id of the memory imported */
  sourceVersion: Schema.String,
  contentId: Schema.String,
  /** store entries imported (experience and insight records, behaviors, Memp items) */
  entries: Schema.Int
})
export type MemoryImportRecord = typeof MemoryImportRecord.Type

/** The marker: what makes a directory a pmdsim run, written before anything else of the run. */
export const RunMarker = Schema.Struct({
  format: Schema.Literal("pmdsim-run/1"),
  /** the resolved config the run was started with: config.json may never drift from it (see resultHash) */
  config: RunConfig,
  resultHash: Schema.String,
  createdBy: Schema.Literals(["run", "fork", "sweep"]),
  /** set for a fork: the run and checkpoint it started from (a fork can only resume from its own checkpoints) */
  forkedFrom: Schema.optionalKey(Schema.Struct({ dir: Schema.String, step: Schema.Int })),
  /** set for a run started with `memory.importFrom` */
  memoryImport: Schema.optionalKey(MemoryImportRecord)
})
export type RunMarker = typeof RunMarker.Type

const decodeMarker = Schema.decodeUnknownSync(RunMarker, { onExcessProperty: "error", errors: "all" })

export const writeMarker = (dir: string, cfg: RunConfig, createdBy: RunMarker["createdBy"], forkedFrom?: RunMarker["forkedFrom"], memoryImport?: MemoryImportRecord): void => {
  const marker: RunMarker = {
    format: "pmdsim-run/1", config: cfg, resultHash: resultHash(cfg), createdBy, ...(forkedFrom === undefined ? {} : { forkedFrom }),
    ...(memoryImport === undefined ? {} : { memoryImport })
  }
  writeFileDurable(join(dir, FILES.marker), `${JSON.stringify(marker, null, 2)}\n`)
}

export const hasMarker = (dir: string): boolean => existsSync(join(dir, FILES.marker))

/** The marker of `dir`, checked; RunDirError when it is missing or damaged. */
export const readMarker = (dir: string): RunMarker => {
  const file = join(dir, FILES.marker)
  if (!existsSync(file)) throw new RunDirError({ dir, problem: `not a pmdsim run directory (no ${FILES.marker})` })
  try {
    return decodeMarker(readJson(file))
  } catch (e) {
    throw new RunDirError({ dir: file, problem: `damaged run marker: ${(e as Error).message}` })
  }
}

/** The marker's temp file: all a run can have written before its marker exists (a crash right there). */
export const MARKER_TEMP = /^pmdsim-run\.json\.\d+\.tmp$/

/** A directory's entries other than the lock and its temp files (those belong to whoever holds the lock). */
const userEntries = (dir: string): Array<string> =>
  readdirSync(dir).filter((n) => n !== FILES.lock && !n.startsWith(`${FILES.lock}.`))

/** What a new run finds in `dir` besides its own leftovers from a crash before the marker (removed here). */
const entriesAfterOwnLeftovers = (dir: string): Array<string> => {
  const entries = userEntries(dir)
  if (hasMarker(dir)) return entries
  for (const n of entries.filter((e) => MARKER_TEMP.test(e))) removeDurable(join(dir, n))
  return entries.filter((e) => !MARKER_TEMP.test(e))
}

/** Refuses a path that exists and is not a directory (ENOTDIR otherwise, much later). */
export const requireDirOrAbsent = (dir: string): void => {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new RunDirError({ dir, problem: "exists and is a file, not a directory" })
}

/**
 * Prepares `dir` for a new run: creates it, or accepts it empty; a directory that holds a run is
 * refused unless `force`, and then only the entries a run writes are removed. A non-empty directory
 * without the marker is never touched.
 */
export const prepareNewRun = (dir: string, force: boolean): void => {
  requireDirOrAbsent(dir)
  if (existsSync(dir)) {
    const entries = entriesAfterOwnLeftovers(dir)
    if (entries.length > 0) {
      if (!hasMarker(dir)) {
        throw new RunDirError({ dir, problem: `is not empty and is not a pmdsim run directory (no ${FILES.marker}): remove it yourself, or choose another --out` })
      }
      if (!force) {
        throw new RunDirRefused({ dir, problem: "already holds a run; pass --force to replace it, or --resume to continue it" })
      }
      for (const name of RUN_ENTRIES) removeDurable(join(dir, name))
      removeOwnTemps(dir)
    }
  }
  makeDirDurable(dir)
}

/** Removes what a run writes except its marker and config: a fresh start (first start, or a crash before the first checkpoint). */
export const resetRunOutputs = (dir: string): void => {
  for (const name of RUN_OUTPUTS) removeDurable(join(dir, name))
  removeOwnTemps(dir)
}

/** Removes the temp files a crash can leave in the directories a run writes. */
export const removeOwnTemps = (dir: string): void => {
  for (const d of [dir, join(dir, FILES.checkpoints), join(dir, FILES.memory), join(dir, FILES.memory, "packs")]) {
    if (!existsSync(d) || !statSync(d).isDirectory()) continue
    for (const n of readdirSync(d)) if (OWN_TEMP.test(n) && !n.startsWith(`${FILES.lock}.`)) removeDurable(join(d, n))
  }
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

/**
 * The metrics rows a resumed run keeps (step <= `upTo`), rewritten atomically, and returned. Rows are
 * read with the report's checks (a damaged line is an error naming it), except that a torn last line,
 * a crash in the middle of an append, is dropped: it never completed.
 */
export const truncateMetrics = (dir: string, upTo: number): Array<MetricsRow> => {
  const file = join(dir, FILES.metrics)
  if (!existsSync(file)) return []
  const kept = parseMetricsFile(file, { dropTruncatedLastLine: true }).filter((r) => r.step <= upTo)
  writeFileDurable(file, kept.map((r) => `${JSON.stringify(r)}\n`).join(""))
  return kept
}

/** Appends rows to metrics.jsonl (one JSON object a line), durably. */
export const appendMetrics = (dir: string, rows: ReadonlyArray<MetricsRow>): void => {
  if (rows.length === 0) return
  appendFileDurable(join(dir, FILES.metrics), rows.map((r) => `${JSON.stringify(r)}\n`).join(""))
}

export const readJson = (file: string): unknown => {
  let text: string
  try {
    text = readFileSync(file, "utf8")
  } catch (e) {
    const code = (e as { code?: string }).code
    throw new RunDirError({ dir: file, problem: code === "ENOENT" ? "missing" : `cannot read: ${(e as Error).message}` })
  }
  try {
    return JSON.parse(text)
  } catch (e) {
    throw new RunDirError({ dir: file, problem: `damaged (not JSON): ${(e as Error).message}` })
  }
}
