/**
 * Run checkpoints: everything a killed run needs to resume to the same final state hash.
 * A checkpoint is a directory written under a temporary name and renamed into place, so it is
 * either complete or absent: policy-state.bin (student, optimiser, teacher, weight history), the
 * student in the standard tfjs layout (model.json + weights.bin), run-state.bin (loop state, memory
 * head, Memp store, journal entries). The memory store itself is saved (incrementally) first.
 */
import { Schema } from "effect"
import { existsSync, readFileSync } from "node:fs"
import { makeDirDurable, removeDurable, renameDurable, writeFileDurable } from "../core/durableFile.ts"
import { join } from "node:path"
import { decode, encode } from "../core/Codec.ts"
import { sha256Hex } from "../core/Hash.ts"
import { disposeParams, type ModelConfig, paramsFromWeights, saveCheckpoint } from "../numeric/index.ts"
import type { JournalEntry } from "../protocol/Journal.ts"
import type { MempStore } from "../memory/memp/memp.ts"
import type { LoopState } from "../../actors/orchestrator/index.ts"
import type { PolicyState } from "../protocol/policy.ts"
import { checkpointDir } from "./runDir.ts"

export class CheckpointCorrupt extends Schema.TaggedError<CheckpointCorrupt>()("CheckpointCorrupt", { file: Schema.String, problem: Schema.String }) {
  override get message(): string {
    return `${this.file}: ${this.problem}`
  }
}

export interface RunState {
  readonly loop: LoopState
  /** memory head version id at the checkpoint ("empty" before the first commit) and the branch */
  readonly memoryHead: string
  readonly memoryBranch: string
  readonly memoryFrozen: boolean
  readonly memp: MempStore
  readonly journal: ReadonlyArray<JournalEntry>
  /** resultHash of the config that wrote it: a resume with other result fields is refused */
  readonly resultHash: string
  /**
   * set when the run computes in the `numeric.fma` mode: the machine's fma fingerprint (src/numeric/fmaMode.ts),
   * whose bits the checkpoint holds; a resume on a machine with another fingerprint is refused (restore.ts)
   */
  readonly fmaFingerprint?: string
}

const MAGIC = "pmdsim/checkpoint/v1"

const writeChecked = (file: string, value: unknown): void => {
  const body = encode(value)
  writeFileDurable(file, encode({ magic: MAGIC, sha256: sha256Hex(body), body }))
}

const readChecked = (file: string): unknown => {
  let raw: unknown
  try {
    raw = decode(readFileSync(file))
  } catch (e) {
    throw new CheckpointCorrupt({ file, problem: `unreadable or not a checkpoint file: ${(e as Error).message}` })
  }
  const r = raw as { magic?: unknown; sha256?: unknown; body?: unknown }
  if (r?.magic !== MAGIC || !(r.body instanceof Uint8Array)) throw new CheckpointCorrupt({ file, problem: "foreign file (bad magic)" })
  if (sha256Hex(r.body) !== r.sha256) throw new CheckpointCorrupt({ file, problem: "checksum mismatch (truncated or corrupted)" })
  return decode(r.body)
}

export const writeRunCheckpoint = (dir: string, step: number, model: ModelConfig, policy: PolicyState, run: RunState): void => {
  const final = checkpointDir(dir, step)
  const tmp = `${final}.tmp`
  removeDurable(tmp)
  makeDirDurable(tmp)
  try {
    const params = paramsFromWeights(model, policy.student)
    try {
      saveCheckpoint(tmp, { config: model, params, meta: { step, policyVersion: policy.version } })
    } finally {
      disposeParams(params)
    }
    writeChecked(join(tmp, "policy-state.bin"), policy)
    writeChecked(join(tmp, "run-state.bin"), run)
  } catch (e) {
    // a failed checkpoint (a full disk) leaves nothing behind; the previous one still stands
    try {
      removeDurable(tmp)
    } catch {
      // resume removes a stray staging directory too (runDir.ts removeOwnTemps)
    }
    throw e
  }
  // a crash between these two loses this checkpoint only: resume then starts from an older one (or
  // afresh), and determinism brings it to the same state
  removeDurable(final)
  renameDurable(tmp, final)
}

export const readRunCheckpoint = (dir: string, step: number): { policy: PolicyState; run: RunState } => {
  const d = checkpointDir(dir, step)
  if (!existsSync(d)) throw new CheckpointCorrupt({ file: d, problem: "no such checkpoint" })
  return { policy: readChecked(join(d, "policy-state.bin")) as PolicyState, run: readChecked(join(d, "run-state.bin")) as RunState }
}
