import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, expect, test } from "vitest"
import { Rng } from "../../src/core/Rng.ts"
import {
  CheckpointError,
  createAdamState,
  disposeAdamState,
  disposeParams,
  initBackend,
  initParams,
  loadCheckpoint,
  paramsFromWeights,
  saveCheckpoint,
  weightsHash
} from "../../src/numeric/index.ts"
import { tinyCfg } from "./helpers.ts"

const root = mkdtempSync(join(tmpdir(), "pmdsim-ck-"))
beforeAll(async () => {
  await initBackend("wasm")
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

const save = (name: string): string => {
  const dir = join(root, name)
  const p = initParams(tinyCfg, Rng.root(1))
  const st = createAdamState(p)
  saveCheckpoint(dir, { config: tinyCfg, params: p, adam: st })
  disposeAdamState(st)
  disposeParams(p)
  return dir
}

test("standard tfjs layout: model.json with weightsManifest and the config in userDefinedMetadata", () => {
  const dir = save("layout")
  const json = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"))
  expect(json.weightsManifest[0].paths).toEqual(["weights.bin"])
  expect(json.weightsManifest[0].weights[0]).toEqual({ name: "tokEmb", shape: [24, 16], dtype: "float32" })
  expect(json.userDefinedMetadata.pmdsim.config).toEqual(tinyCfg)
  const ck = loadCheckpoint(dir)
  const p = paramsFromWeights(ck.config, ck.weights)
  const q = initParams(tinyCfg, Rng.root(1))
  expect(weightsHash(p)).toBe(weightsHash(q))
  disposeParams(p)
  disposeParams(q)
})

test("damaged checkpoints fail with CheckpointError", () => {
  const cases: Array<[string, (dir: string) => void]> = [
    ["truncated weights", (d) => truncateSync(join(d, "weights.bin"), 100)],
    ["flipped bit", (d) => {
      const b = readFileSync(join(d, "weights.bin"))
      b[17] = b[17]! ^ 1
      writeFileSync(join(d, "weights.bin"), b)
    }],
    ["bad json", (d) => writeFileSync(join(d, "model.json"), "{not json")],
    ["missing state", (d) => rmSync(join(d, "train-state.bin"))],
    ["corrupt state", (d) => writeFileSync(join(d, "train-state.bin"), new Uint8Array([1, 2, 3]))],
    ["missing dir", (d) => rmSync(d, { recursive: true })]
  ]
  for (const [name, damage] of cases) {
    const dir = save(name.replace(/ /g, "-"))
    damage(dir)
    expect(() => loadCheckpoint(dir), name).toThrow(CheckpointError)
  }
  const ok = save("mismatch")
  expect(() => loadCheckpoint(ok, { ...tinyCfg, dModel: 32 })).toThrow(CheckpointError)
})
