/**
 * Turning failures into a clear message and an exit code (the CLI's contract):
 * 2 bad input (config, flags, damaged or missing files, an --out that cannot be a run directory),
 * 3 refused to touch an existing run or a directory another process writes, 4 replay diverged,
 * 130 interrupted (a checkpoint was written), 1 anything else (including a full disk).
 */
export const EXIT = { ok: 0, failure: 1, badInput: 2, refused: 3, diverged: 4, interrupted: 130 } as const

const BAD_INPUT = new Set([
  "ConfigError", "CheckpointCorrupt", "BaseCheckpointError", "RunConfigError", "MetricsLineError", "JournalFileError",
  "SnapshotFileCorrupt", "DomainConfigError", "NumericInputError", "CheckpointError", "SweepConfigError", "RunDirError",
  "SummaryFileError", "VersionNotFound", "EvalNoiseFileError", "StudyConfigError", "StudySummaryFileError",
  "LineageFileError", "LineageItemError", "RolloutsFileError",
  // the cluster's (src/cluster/errors.ts): a bad flag, a cluster of another version, a sweep name taken
  "ClusterInputError", "ClusterMismatch", "SweepNameTaken"
])
const REFUSED = new Set(["RunDirRefused", "RunLocked", "SweepChanged"])
/** Write failures that are the machine's state, not the user's input: a full disk is retried after freeing space. */
const MACHINE_CODES = new Set(["ENOSPC", "EDQUOT", "EIO"])

export const exitCodeOf = (e: unknown): number => {
  const tag = (e as { _tag?: string } | null)?._tag
  if (tag === "FileWriteError" || tag === "SnapshotIoError") {
    const code = (e as { code?: string }).code
    const text = e instanceof Error ? e.message : ""
    return (code !== undefined && MACHINE_CODES.has(code)) || /no space left|quota/.test(text) ? EXIT.failure : EXIT.badInput
  }
  if (tag !== undefined && REFUSED.has(tag)) return EXIT.refused
  if (tag !== undefined && BAD_INPUT.has(tag)) return EXIT.badInput
  return EXIT.failure
}

export const describeFailure = (e: unknown): string => {
  const tag = (e as { _tag?: string } | null)?._tag
  const msg = e instanceof Error ? e.message : String(e)
  return tag === undefined ? msg : `${tag}: ${msg}`
}
