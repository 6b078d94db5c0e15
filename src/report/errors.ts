/**
 * Typed errors of the report: each names the file (and line) that is wrong, so that a user can open it
 * and see what a run wrote. They are Error subclasses with a `_tag`, as everywhere in pmdsim.
 */

/** A directory that is neither a run directory nor a sweep of them, or a run missing one of its files. */
export class RunDirError extends Error {
  readonly _tag = "RunDirError"
  readonly dir: string
  readonly reason: string
  constructor(dir: string, reason: string) {
    super(`${dir}: ${reason}`)
    this.dir = dir
    this.reason = reason
  }
}

/** A file the report reads that is missing, not JSON, or holds a bad field: names the file and the reason. */
abstract class FileProblem extends Error {
  abstract readonly _tag: string
  readonly file: string
  readonly reason: string
  constructor(file: string, reason: string) {
    super(`${file}: ${reason}`)
    this.file = file
    this.reason = reason
  }
}

/** A config.json that cannot be read, is not JSON, or lacks `method` / `seed` / a well-formed `knobs`. */
export class RunConfigError extends FileProblem {
  readonly _tag = "RunConfigError"
}

/** A metrics.jsonl line that is not JSON or not a well-formed train / eval row. `line` is 1-based. */
export class MetricsLineError extends Error {
  readonly _tag = "MetricsLineError"
  readonly file: string
  readonly line: number
  readonly reason: string
  constructor(file: string, line: number, reason: string) {
    super(`${file}:${line}: ${reason}`)
    this.file = file
    this.line = line
    this.reason = reason
  }
}

/** Statistics asked of an empty sample (a caller bug: groups are never empty). */
export class EmptySampleError extends Error {
  readonly _tag = "EmptySampleError"
  constructor(what: string) {
    super(`no values to summarise: ${what}`)
  }
}

export type ReportError = RunDirError | RunConfigError | MetricsLineError

/** An eval-noise.json that is not JSON or holds a bad field; names the file and the field. */
export class EvalNoiseFileError extends FileProblem {
  readonly _tag = "EvalNoiseFileError"
}

/** A study-summary.json that cannot be read, is not JSON or holds a bad field; names the file and the field. */
export class StudySummaryFileError extends FileProblem {
  readonly _tag = "StudySummaryFileError"
}
