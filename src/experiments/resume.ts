/**
 * The config a resumed run continues with: config.json, bound to the marker's (the config the run
 * started with). Only speed-only fields (SPEED_ONLY_FIELDS) may differ; any other change is refused
 * with the fields named, since it would silently change a run under its checkpoints. A config.json
 * lost to a crash (the marker is written first) is restored from the marker.
 */
import { existsSync } from "node:fs"
import { join } from "node:path"
import { ConfigError, resultFieldDiff, validateConfig } from "../config/resolve.ts"
import type { RunConfig } from "../config/RunConfig.ts"
import { writeFileDurable } from "../core/durableFile.ts"
import { FILES, hasMarker, readJson, readMarker } from "./runDir.ts"

const at = (cfg: unknown, path: string): string =>
  JSON.stringify(path.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], cfg) ?? null)

/** "optim.lr: 0.0003 -> 0.001, steps: 4 -> 8" */
export const describeFieldChanges = (before: RunConfig, after: RunConfig, fields: ReadonlyArray<string>): string =>
  fields.map((f) => `${f}: ${at(before, f)} -> ${at(after, f)}`).join(", ")

/** The bound config of a run this process resumes (it holds the lock): a lost config.json is written back. */
export const readBoundConfig = (dir: string): RunConfig => boundConfig(dir, true)

/**
 * The config of a run this process only reads (replay, fork's source, eval-noise): bound the same way, but
 * nothing is written; a directory from before markers existed is read from its config.json alone.
 */
export const readRunConfig = (dir: string): RunConfig => {
  if (hasMarker(dir)) return boundConfig(dir, false)
  const file = join(dir, FILES.config)
  return validateConfig(readJson(file), file)
}

const boundConfig = (dir: string, writeMissing: boolean): RunConfig => {
  const marker = readMarker(dir)
  const file = join(dir, FILES.config)
  if (!existsSync(file)) {
    if (writeMissing) writeFileDurable(file, `${JSON.stringify(marker.config, null, 2)}\n`)
    return marker.config
  }
  const cfg = validateConfig(readJson(file), file)
  const changed = resultFieldDiff(marker.config, cfg)
  if (changed.length > 0) {
    throw new ConfigError({
      message: `${file} was edited since the run started (${describeFieldChanges(marker.config, cfg, changed)}): ` +
        `a run cannot change under its checkpoints. Restore those fields, or start a changed run from a checkpoint with ` +
        `pmdsim fork ${dir} --step N --set FIELD=VALUE --out NEW_DIR`
    })
  }
  return cfg
}
