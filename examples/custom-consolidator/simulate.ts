/**
 * A tiny PMD simulation with the top-usage consolidator, through pmdsim's public API: a run on the
 * embedded "tiny" preset with all three memory levels and consolidation every step, then a replay that
 * must reproduce it bit for bit. `npm run simulate [DIR]` (default: a fresh temporary directory).
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { registerPlugins, replayPromise, runPromise, type RunSummary, type TrainRow } from "pmdsim"
import { topUsage } from "./src/topUsage.ts"

export const CAPACITY = 4

export interface Simulation {
  readonly summary: RunSummary
  /** Behaviors in the bank after each step. */
  readonly behaviors: ReadonlyArray<number>
  readonly replayIdentical: boolean
}

export const simulate = async (out: string): Promise<Simulation> => {
  registerPlugins(topUsage)
  const behaviors: Array<number> = []
  const summary = await runPromise({
    preset: "tiny",
    set: ["memory.consolidator=top-usage", "memory.levels=EIB", "memory.behaviorEvery=1", `memory.bankCapacity=${CAPACITY}`, "steps=3", "eval.problems=4"],
    out,
    onRow: (row) => {
      if (row.kind === "train") behaviors.push((row as TrainRow).memorySizes.behaviors)
    }
  })
  const replayed = await replayPromise({ dir: out })
  return { summary, behaviors, replayIdentical: replayed.identical }
}

if (import.meta.main) {
  const out = process.argv[2] ?? join(mkdtempSync(join(tmpdir(), "top-usage-")), "run")
  const s = await simulate(out)
  console.log(`run: ${out}`)
  console.log(`behaviors per step: ${s.behaviors.join(", ")} (capacity ${CAPACITY})`)
  console.log(`finalStateHash ${s.summary.finalStateHash}; replay ${s.replayIdentical ? "identical" : "DIVERGED"}`)
  process.exitCode = s.replayIdentical && s.behaviors.every((n) => n <= CAPACITY) ? 0 : 1
}
