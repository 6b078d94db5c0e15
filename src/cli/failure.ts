/**
 * Turning failures into a clear message and an exit code (the CLI's contract):
 * 2 bad input (config, flags, files), 3 refused to touch an existing run, 4 replay diverged,
 * 130 interrupted (a checkpoint was written), 1 anything else.
 */
export const EXIT = { ok: 0, failure: 1, badInput: 2, refused: 3, diverged: 4, interrupted: 130 } as const

const BAD_INPUT = new Set(["ConfigError", "CheckpointCorrupt", "BaseCheckpointError", "RunConfigError", "MetricsLineError", "JournalFileError", "SnapshotFileCorrupt", "DomainConfigError", "NumericInputError", "CheckpointError", "SweepConfigError"])

export const exitCodeOf = (e: unknown): number => {
  const tag = (e as { _tag?: string } | null)?._tag
  if (tag === "RunDirError") return (e as { problem?: string }).problem?.includes("--force") ? EXIT.refused : EXIT.badInput
  if (tag !== undefined && BAD_INPUT.has(tag)) return EXIT.badInput
  return EXIT.failure
}

export const describeFailure = (e: unknown): string => {
  const tag = (e as { _tag?: string } | null)?._tag
  const msg = e instanceof Error ? e.message : String(e)
  return tag === undefined ? msg : `${tag}: ${msg}`
}
