/** Small, fast configs and helpers for whole-loop tests. */
import { Effect } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { resolveConfig } from "../../src/config/resolve.ts"
import type { RunConfig } from "../../src/config/RunConfig.ts"
import type { MetricsRow, TrainRow } from "../../src/protocol/metrics.ts"
import { runTraining, type RunOptions } from "../../src/experiments/run.ts"
import { prepareNewRun } from "../../src/experiments/runDir.ts"

/** A tiny run from scratch weights (no committed base needed): 4 steps, 4 problems x 4 rollouts. */
export const tinyConfig = (sets: ReadonlyArray<string> = []): RunConfig =>
  resolveConfig({ preset: "tiny", sets: ["base=scratch", "eval.problems=4", "domainOptions.clusters=4", "domainOptions.trainPerCluster=4", "domainOptions.heldoutPerCluster=2", ...sets] })

export const freshDir = (label: string): string => {
  const d = join(mkdtempSync(join(tmpdir(), `pmdsim-${label}-`)), "run")
  prepareNewRun(d, false)
  return d
}

export const train = (cfg: RunConfig, dir = freshDir(cfg.method), extra: Partial<RunOptions> = {}) =>
  Effect.runPromise(Effect.gen(function*() {
    const rows: Array<MetricsRow> = []
    const summary = yield* runTraining({ cfg, dir, resume: false, onRow: (r) => rows.push(r), ...extra })
    return { summary, rows, trainRows: rows.filter((r): r is TrainRow => r.kind === "train"), dir }
  }))
