/**
 * Run checkpoints: everything a killed run needs to resume to the same final state hash.
 * A checkpoint is a directory written under a temporary name and renamed into place, so it is
 * either complete or absent: policy-state.bin (student, optimiser, teacher, weight history), the
 * student in the standard tfjs layout (model.json + weights.bin), run-state.bin (loop state, memory
 * head, Memp store, journal entries). The memory store itself is saved (incrementally) first.
 */
import { Schema } from "effect"
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs"
import { join } from "node:path"
import { decode, encode } from "../core/Codec.ts"
import { sha256Hex } from "../core/Hash.ts"
import { disposeParams, type ModelConfig, paramsFromWeights, saveCheckpoint } from "../numeric/index.ts"
import type { JournalEntry } from "../protocol/Journal.ts"
import type { MempStore } from "../memory/memp/memp.ts"
import type { PolicyState } from "../../actors/policy/PolicyModel.ts"
import type { LoopState } from "../../actors/orchestrator/step.ts"
import { checkpointDir, writeAtomic } from "./runDir.ts"

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
}

const MAGIC = "pmdsim/checkpoint/v1"

const writeChecked = (file: string, value: unknown): void => {
  const body = encode(value)
  writeAtomic(file, encode({ magic: MAGIC, sha256: sha256Hex(body), body }))
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
  rmSync(tmp, { recursive: true, force: true })
  mkdirSync(tmp, { recursive: true })
  const params = paramsFromWeights(model, policy.student)
  try {
    saveCheckpoint(tmp, { config: model, params, meta: { step, policyVersion: policy.version } })
  } finally {
    disposeParams(params)
  }
  writeChecked(join(tmp, "policy-state.bin"), policy)
  writeChecked(join(tmp, "run-state.bin"), run)
  rmSync(final, { recursive: true, force: true })
  renameSync(tmp, final)
}

export const readRunCheckpoint = (dir: string, step: number): { policy: PolicyState; run: RunState } => {
  const d = checkpointDir(dir, step)
  if (!existsSync(d)) throw new CheckpointCorrupt({ file: d, problem: "no such checkpoint" })
  return { policy: readChecked(join(d, "policy-state.bin")) as PolicyState, run: readChecked(join(d, "run-state.bin")) as RunState }
}
