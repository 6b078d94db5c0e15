/**
 * A run's checkpoint brought back into a process, as a resume (run.ts) and `pmdsim eval-noise`
 * (evalNoise.ts) both need it: checked against the config (a checkpoint is bound to the config that
 * wrote it, except a fork's first one, which is its source's by design), with the memory store opened
 * and its branch pointed at the checkpoint's memory head in this process.
 */
import { Effect } from "effect"
import { join } from "node:path"
import type { RunConfig } from "../config/RunConfig.ts"
import { resultHash } from "../config/resolve.ts"
import { DiskStore, INDEX_FILE } from "../memory/store/disk.ts"
import { fmaFingerprint } from "../numeric/index.ts"
import { readRunCheckpoint, type RunState } from "./checkpoint.ts"
import { checkForkKeepsImport } from "./importMemory.ts"
import { checkpointDir, FILES, hasMarker, readMarker, RunDirError } from "./runDir.ts"
import type { Ports } from "../../actors/orchestrator/index.ts"
import type { PolicyState } from "../../actors/policy/index.ts"

export interface Restored {
  readonly policy: PolicyState
  readonly run: RunState
  readonly disk: DiskStore
  /** the memory branch to continue: the checkpoint's, or a fresh one when its memory was empty (PMD-Transient) */
  readonly branch: string
}

export const restoreCheckpoint = (dir: string, cfg: RunConfig, step: number): Restored => {
  const { policy, run } = readRunCheckpoint(dir, step)
  const forkedFrom = hasMarker(dir) ? readMarker(dir).forkedFrom : undefined
  const forkPoint = forkedFrom?.step
  if (forkedFrom !== undefined && forkPoint === step) checkForkKeepsImport(forkedFrom.dir, cfg)
  if (forkPoint !== step && run.resultHash !== undefined && run.resultHash !== resultHash(cfg)) {
    throw new RunDirError({ dir: checkpointDir(dir, step), problem: "was written under another config (its result fields differ from config.json); change a run with pmdsim fork --set" })
  }
  // a fork's first checkpoint is its source's data, whatever machine computed it; from there on it computes here
  if (forkPoint !== step) checkFmaMachine(checkpointDir(dir, step), run)
  const disk = DiskStore.open(join(dir, FILES.memory))
  let branch = run.memoryBranch
  if (run.memoryHead === "empty") {
    if (disk.store.head(branch) !== undefined) branch = `${branch}-r${step}`
  } else {
    requireVersion(dir, disk, run.memoryHead, step)
    disk.store.setHead(branch, run.memoryHead)
  }
  return { policy, run, disk, branch }
}

/** The memory store holds the version a checkpoint names, or RunDirError (exit 2) naming the index file. */
const requireVersion = (dir: string, disk: DiskStore, version: string, step: number): void => {
  if (!disk.store.hasVersion(version)) {
    throw new RunDirError({ dir: join(dir, FILES.memory, INDEX_FILE), problem: `missing or damaged: it lacks memory version ${version} named by checkpoint step ${step}` })
  }
}

/**
 * `restored` (the checkpoint at some step) with its memory replaced by the memory as it stood at checkpoint
 * `memoryStep` of the same run: the head version, the frozen flag and the Memp store. In this process only
 * (the store is never saved): a reader x memory cross evaluation (`pmdsim eval-noise --memory-step`). The
 * store keeps every version the run committed, so any checkpoint's memory is there unless it was empty.
 */
export const withMemoryOf = (dir: string, restored: Restored, memoryStep: number): Restored => {
  const { run } = readRunCheckpoint(dir, memoryStep)
  if (run.memoryHead === "empty") {
    throw new RunDirError({ dir: checkpointDir(dir, memoryStep), problem: "holds no stored memory (its memory was empty or rebuilt each step, as PMD-Transient's): there is none to read" })
  }
  requireVersion(dir, restored.disk, run.memoryHead, memoryStep)
  restored.disk.store.setHead(restored.branch, run.memoryHead)
  return { ...restored, run: { ...restored.run, memoryHead: run.memoryHead, memoryFrozen: run.memoryFrozen, memp: run.memp } }
}

/**
 * `numeric.fma` bits are machine-specific (src/numeric/fmaMode.ts): a checkpoint written in that mode records
 * the machine's fma fingerprint, and continuing it on a machine whose fingerprint differs would silently give
 * other bits than the run straight through. Refused (RunDirError, exit 2) naming the field.
 */
export const checkFmaMachine = (checkpoint: string, run: Pick<RunState, "fmaFingerprint">): void => {
  if (run.fmaFingerprint === undefined) return
  const here = fmaFingerprint()
  if (run.fmaFingerprint !== here) {
    throw new RunDirError({
      dir: checkpoint,
      problem: `fmaFingerprint ${run.fmaFingerprint} was recorded under numeric.fma, and this machine's is ${here}: ` +
        "numeric.fma bits are machine-specific, so this run cannot continue (or be replayed) here with the same bits; " +
        "continue it on the machine that wrote it, or fork it (pmdsim fork) to continue with this machine's bits"
    })
  }
}

/**
 * The checkpoint's policy (student, optimiser, teacher) and memory flags and Memp store, sent to freshly
 * started actors by message (the policy's `Import`, the memory's `Restore`), before their first step.
 */
export const applyCheckpoint = (ports: Ports, restored: Restored): Effect.Effect<void> =>
  Effect.gen(function*() {
    yield* ports.importPolicy(restored.policy)
    yield* ports.restoreMemory({ frozen: restored.run.memoryFrozen, memp: restored.run.memp })
  })
