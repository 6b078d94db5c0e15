/**
 * What a runner stores of a run directory that `pmdsim run` is still writing (src/cluster/artifacts.ts):
 * never the lock or temp files, never half of a pruned checkpoint, metrics only in complete lines.
 * No PostgreSQL needed (the storing itself is covered by the cluster tests).
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { lastTrainStep, metricsRows, newestCheckpoint, readSnapshot } from "../../src/cluster/artifacts.ts"
import { tmp } from "../experiments/cliHelpers.ts"

const dirs: Array<string> = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const runDir = (files: Record<string, string>): string => {
  const dir = tmp("artifacts")
  dirs.push(dir)
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  return dir
}

describe("readSnapshot", () => {
  it("reads checkpoints first, then the rest, and skips the lock and every temp file", () => {
    const dir = runDir({
      "metrics.jsonl": "{}\n", "pmdsim.lock": "1", "config.json": "{}", "summary.json.123.tmp": "x", "pmdsim-run.json.9.new": "x",
      "checkpoints/step-000002/state.bin": "s2", "checkpoints/step-000004.tmp/state.bin": "partial", "memory/node-a": "a"
    })
    expect(readSnapshot(dir).map((f) => f.path)).toEqual(["checkpoints/step-000002/state.bin", "config.json", "memory/node-a", "metrics.jsonl"])
    expect(newestCheckpoint(dir)).toBe("step-000002")
  })

  it("is empty for a directory that does not exist yet", () => {
    const dir = tmp("artifacts-none")
    dirs.push(dir)
    expect(readSnapshot(join(dir, "absent"))).toEqual([])
  })
})

describe("metrics rows", () => {
  it("keeps complete lines only and finds the last train step", () => {
    const rows = metricsRows('{"kind":"train","step":1}\n{"kind":"eval","step":2,"protocol":"transfer"}\n{"kind":"train","step":2}\n{"kind":"tr')
    expect(rows).toHaveLength(3)
    expect(lastTrainStep(rows)).toBe(2)
    expect(lastTrainStep(metricsRows('{"kind":"eval","step":0}\n'))).toBe(0)
  })
})
