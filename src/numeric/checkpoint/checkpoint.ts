/**
 * Checkpoints in the standard tfjs weights layout, plus a training-state sidecar.
 *
 *   <dir>/model.json      { format, generatedBy, modelTopology: null, weightsManifest: [{ paths:
 *                           ["weights.bin"], weights: [{ name, shape, dtype: "float32" }, ...] }],
 *                           userDefinedMetadata: { pmdsim: { version, config, weightsSha256,
 *                           stateSha256 } } }
 *   <dir>/weights.bin     float32 little-endian values, concatenated in manifest (paramSpecs) order
 *   <dir>/train-state.bin canonical msgpack (src/core/Codec.ts) of { adam, rng, meta }: optimiser
 *                           moments and step, named Rng snapshots, and caller metadata
 *
 * Each file is written atomically, model.json last; it records the sha-256 of the other two, so a
 * directory caught between two saves, a truncated or a bit-flipped file fails to load with a
 * CheckpointError instead of mixing states. Loading returns plain data; `paramsFromWeights` and
 * `importAdamState` turn it into fresh variables, and a run resumed from it continues bit-identically.
 */
import { mkdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { decode, encode } from "../../core/Codec.ts"
import { sha256Hex } from "../../core/Hash.ts"
import type { RngSnapshot } from "../../core/Rng.ts"
import { CheckpointError } from "../errors.ts"
import { type ModelConfig, validateConfig } from "../model/config.ts"
import { type Params, type Weights, getWeights } from "../model/params.ts"
import { type AdamState, type AdamStateData, exportAdamState } from "../optim/adam.ts"
import { writeFileAtomic } from "./atomic.ts"

export const CHECKPOINT_VERSION = 1

export interface CheckpointData {
  readonly config: ModelConfig
  readonly weights: Weights
  readonly adam: AdamStateData | null
  readonly rng: Readonly<Record<string, RngSnapshot>>
  readonly meta: unknown
}

export interface SaveInput {
  readonly config: ModelConfig
  readonly params: Params
  readonly adam?: AdamState
  readonly rng?: Readonly<Record<string, RngSnapshot>>
  /** Any codec-encodable value (step counters, recipe hash, ...). */
  readonly meta?: unknown
}

const bytesOf = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)

/** Writes a checkpoint into `dir` (created if missing), replacing any previous one. */
export const saveCheckpoint = (dir: string, input: SaveInput): void => {
  validateConfig(input.config)
  mkdirSync(dir, { recursive: true })
  const weights = getWeights(input.params)
  const total = weights.reduce((n, w) => n + w.values.byteLength, 0)
  const bin = new Uint8Array(total)
  let off = 0
  for (const w of weights) {
    bin.set(bytesOf(w.values), off)
    off += w.values.byteLength
  }
  const state = encode({ adam: input.adam === undefined ? null : exportAdamState(input.adam), rng: input.rng ?? {}, meta: input.meta ?? null })
  const modelJson = {
    format: "pmdsim-policy",
    generatedBy: "pmdsim",
    convertedBy: null,
    modelTopology: null,
    weightsManifest: [{ paths: ["weights.bin"], weights: weights.map((w) => ({ name: w.name, shape: w.shape, dtype: "float32" })) }],
    userDefinedMetadata: {
      pmdsim: { version: CHECKPOINT_VERSION, config: input.config, weightsSha256: sha256Hex(bin), stateSha256: sha256Hex(state) }
    }
  }
  writeFileAtomic(join(dir, "weights.bin"), bin)
  writeFileAtomic(join(dir, "train-state.bin"), state)
  writeFileAtomic(join(dir, "model.json"), new TextEncoder().encode(JSON.stringify(modelJson, null, 1)))
}

const readOr = (dir: string, file: string): Uint8Array => {
  try {
    return readFileSync(join(dir, file))
  } catch (e) {
    throw new CheckpointError(dir, `cannot read ${file}: ${(e as Error).message}`)
  }
}

interface ManifestEntry {
  name: string
  shape: Array<number>
  dtype: string
}

/** Reads and verifies a checkpoint. Fails with CheckpointError on any damage or mismatch. */
export const loadCheckpoint = (dir: string, expected?: ModelConfig): CheckpointData => {
  const fail = (msg: string): never => {
    throw new CheckpointError(dir, msg)
  }
  let json: any
  try {
    json = JSON.parse(new TextDecoder().decode(readOr(dir, "model.json")))
  } catch (e) {
    if (e instanceof CheckpointError) throw e
    fail(`model.json is not valid JSON: ${(e as Error).message}`)
  }
  const meta = json?.userDefinedMetadata?.pmdsim
  if (meta?.version !== CHECKPOINT_VERSION) fail(`unsupported or missing version ${meta?.version}`)
  let config: ModelConfig
  try {
    config = validateConfig(meta.config as ModelConfig)
  } catch (e) {
    return fail(`bad config: ${(e as Error).message}`)
  }
  if (expected !== undefined && JSON.stringify(expected) !== JSON.stringify(config)) {
    fail(`config ${JSON.stringify(config)} differs from the expected ${JSON.stringify(expected)}`)
  }
  const group = json.weightsManifest?.[0]
  const entries: Array<ManifestEntry> = Array.isArray(group?.weights) ? group.weights : fail("weightsManifest missing")
  const bin = readOr(dir, "weights.bin")
  if (sha256Hex(bin) !== meta.weightsSha256) fail("weights.bin does not match its recorded sha-256 (truncated, corrupted or from another save)")
  const state = readOr(dir, "train-state.bin")
  if (sha256Hex(state) !== meta.stateSha256) fail("train-state.bin does not match its recorded sha-256")
  let off = 0
  const weights = entries.map((e) => {
    if (e.dtype !== "float32") fail(`${e.name}: dtype ${e.dtype} is not float32`)
    const n = e.shape.reduce((a, b) => a * b, 1)
    if (off + n * 4 > bin.byteLength) fail(`weights.bin too short for ${e.name}`)
    const values = new Float32Array(n)
    new Uint8Array(values.buffer).set(bin.subarray(off, off + n * 4))
    off += n * 4
    return { name: e.name, shape: e.shape, values }
  })
  if (off !== bin.byteLength) fail(`weights.bin has ${bin.byteLength - off} trailing bytes`)
  let decoded: any
  try {
    decoded = decode(state)
  } catch (e) {
    fail(`train-state.bin does not decode: ${(e as Error).message}`)
  }
  return { config, weights, adam: decoded.adam ?? null, rng: decoded.rng ?? {}, meta: decoded.meta ?? null }
}
