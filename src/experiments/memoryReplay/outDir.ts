/**
 * The output directory of `pmdsim memory-replay`: new, or a previous memory-replay output of the same inputs
 * (its marker names them by hash), never anything else. What it did not write is never touched: a non-empty
 * directory without the marker is refused (exit 2), one with the marker of other inputs too (exit 3), and a
 * re-run over its own output removes only its own entries. Never the run it reads, nor a directory inside it.
 */
import { Schema } from "effect"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { relative, resolve, sep } from "node:path"
import { join } from "node:path"
import { removeDurable, writeFileDurable } from "../../core/durableFile.ts"
import { FILES, requireDirOrAbsent, RunDirError, RunDirRefused } from "../runDir.ts"

export const REPLAY_FILES = {
  /** written first: what was replayed (the inputs, by hash) */
  marker: "memory-replay.json",
  /** the replay's snapshot store (every version it wrote) */
  memory: "memory",
  /** written last: the comparison with the run's memory (what --json prints) */
  diff: "diff.json"
} as const

const FORMAT = "pmdsim-memory-replay/1"

const Marker = Schema.Struct({ format: Schema.Literal(FORMAT), inputs: Schema.String, run: Schema.String, sets: Schema.Array(Schema.String) })
const decodeMarker = Schema.decodeUnknownSync(Marker)

/** Refuses an output directory that is the run itself or lies inside it (before anything is created). */
export const checkOutsideRun = (out: string, run: string): void => {
  const rel = relative(resolve(run), resolve(out))
  if (rel === "" || (!rel.startsWith("..") && !rel.startsWith(sep) && !/^[A-Za-z]:/.test(rel))) {
    throw new RunDirError({ dir: out, problem: `is ${rel === "" ? "the run" : "inside the run"} ${run}: memory-replay never writes into the run it reads; choose another --out` })
  }
  requireDirOrAbsent(out)
}

/**
 * Makes `out` ready for a replay of `inputs` (the caller holds its lock): empty, or our own output of the
 * same inputs, whose entries are removed; then writes the marker.
 */
export const prepareReplayOut = (out: string, inputs: string, run: string, sets: ReadonlyArray<string>): void => {
  const entries = existsSync(out) ? readdirSync(out).filter((n) => n !== FILES.lock && !n.startsWith(`${FILES.lock}.`)) : []
  if (entries.length > 0) {
    const file = join(out, REPLAY_FILES.marker)
    if (!existsSync(file)) {
      throw new RunDirError({ dir: out, problem: `is not empty and is not a memory-replay output (no ${REPLAY_FILES.marker}): remove it yourself, or choose another --out` })
    }
    let marker: typeof Marker.Type
    try {
      marker = decodeMarker(JSON.parse(readFileSync(file, "utf8")))
    } catch (e) {
      throw new RunDirError({ dir: file, problem: `damaged memory-replay marker: ${(e as Error).message}` })
    }
    if (marker.inputs !== inputs) {
      throw new RunDirRefused({
        dir: out, problem: `holds a memory replay of other inputs (${marker.run}${marker.sets.map((s) => ` --set ${s}`).join("")}, or a run or rollouts file changed since): choose another --out, or remove it yourself`
      })
    }
    for (const name of [REPLAY_FILES.diff, REPLAY_FILES.memory, REPLAY_FILES.marker]) removeDurable(join(out, name))
  }
  writeFileDurable(join(out, REPLAY_FILES.marker), `${JSON.stringify({ format: FORMAT, inputs, run: resolve(run), sets }, null, 2)}\n`)
}
