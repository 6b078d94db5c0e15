/**
 * `pmdsim pull`: the finished runs of a sweep as ordinary run directories under DIR/<run name>, so `pmdsim
 * report`, `replay`, `fork` and `study` work on them unchanged. DIR must be absent, empty, or a directory an
 * earlier pull wrote (it carries pmdsim-pull.json): a directory pull did not write is never overwritten.
 */
import { Effect } from "effect"
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { hydrateRunDir } from "./artifacts.ts"
import { ClusterInputError } from "./errors.ts"
import { findSweep, sweepRuns } from "./status.ts"

export const PULL_MARKER = "pmdsim-pull.json"

interface PullMarker { readonly sweepId: string; readonly runs: ReadonlyArray<string> }

const checkOut = (out: string, sweepId: string): PullMarker | undefined => {
  if (!existsSync(out)) return undefined
  if (!statSync(out).isDirectory()) throw new ClusterInputError({ field: "--out", problem: `${out} is not a directory` })
  const entries = readdirSync(out)
  if (entries.length === 0) return undefined
  if (!entries.includes(PULL_MARKER)) throw new ClusterInputError({ field: "--out", problem: `${out} is not empty and was not written by pmdsim pull (no ${PULL_MARKER}): choose another --out` })
  let marker: PullMarker
  try {
    marker = JSON.parse(readFileSync(join(out, PULL_MARKER), "utf8")) as PullMarker
  } catch (e) {
    throw new ClusterInputError({ field: "--out", problem: `${join(out, PULL_MARKER)} is damaged (${(e as Error).message}): choose another --out` })
  }
  if (marker.sweepId !== sweepId) throw new ClusterInputError({ field: "--out", problem: `${out} holds a pull of sweep ${marker.sweepId}, not ${sweepId}: choose another --out` })
  return marker
}

/** Writes every finished run; returns the names written and the names skipped (not finished). Needs a SqlClient. */
export const pullSweep = (sweep: string, out: string) =>
  Effect.gen(function*() {
    const found = yield* findSweep(sweep)
    const before = checkOut(out, found.sweep_id)
    const runs = yield* sweepRuns(found.sweep_id)
    mkdirSync(out, { recursive: true })
    const written = new Set(before?.runs ?? [])
    const mark = () => writeFileSync(join(out, PULL_MARKER), `${JSON.stringify({ sweepId: found.sweep_id, sweep: found.name, runs: [...written].sort() }, null, 2)}\n`)
    mark()
    const skipped: Array<string> = []
    for (const r of runs) {
      if (r.state !== "done") {
        skipped.push(`${r.name} (${r.state})`)
        continue
      }
      const target = join(out, r.name)
      if (existsSync(target) && !written.has(r.name)) {
        return yield* new ClusterInputError({ field: "--out", problem: `${target} exists and was not written by pmdsim pull` })
      }
      // written next to the target and renamed into place: a reader never sees half a run
      const temp = join(out, `.${r.name}.pull-tmp`)
      rmSync(temp, { recursive: true, force: true })
      yield* hydrateRunDir(r.run_id, temp)
      rmSync(target, { recursive: true, force: true })
      renameSync(temp, target)
      written.add(r.name)
      mark()
    }
    return { sweep: found, written: runs.filter((r) => r.state === "done").map((r) => r.name), skipped }
  })
