/**
 * `numeric.fma` in a run (issue #17): the config key (absent = exact, bad values refused), the machine's
 * fma fingerprint recorded with every checkpoint, and `--resume` / `replay` refused (exit 2, naming the
 * field) on a machine whose fingerprint differs, which the test fakes by rewriting a checkpoint's record.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { presets } from "../../src/config/presets.ts"
import { configHash, resolveConfig, resultHash } from "../../src/config/resolve.ts"
import { decode, encode } from "../../src/core/Codec.ts"
import { sha256Hex } from "../../src/core/Hash.ts"
import { readRunCheckpoint } from "../../src/experiments/checkpoint.ts"
import { fmaFingerprint } from "../../src/numeric/index.ts"
import { cli, SETS, summaryOf, tmp } from "./cliHelpers.ts"

/** Rewrites a checkpoint's run-state.bin with another fma fingerprint, keeping its checksum valid. */
const fakeFingerprint = (dir: string, step: number, fingerprint: string): void => {
  const file = join(dir, "checkpoints", `step-${String(step).padStart(6, "0")}`, "run-state.bin")
  const outer = decode(readFileSync(file)) as { magic: string; sha256: string; body: Uint8Array }
  const body = encode({ ...(decode(outer.body) as Record<string, unknown>), fmaFingerprint: fingerprint })
  writeFileSync(file, encode({ magic: outer.magic, sha256: sha256Hex(body), body }))
}

describe("numeric.fma", () => {
  it("is absent from every preset (their config hashes unchanged), settable with --set, a result field", () => {
    for (const cfg of Object.values(presets)) expect("numeric" in cfg).toBe(false)
    const exact = resolveConfig({ preset: "tiny" })
    const fma = resolveConfig({ preset: "tiny", sets: ["numeric.fma=true"] })
    expect(fma.numeric).toEqual({ fma: true })
    expect(configHash(fma)).not.toBe(configHash(exact))
    expect(resultHash(fma)).not.toBe(resultHash(exact))
  })

  it("a value that is not a boolean is refused with exit 2, naming numeric.fma, and nothing is written", () => {
    const root = tmp("fma-bad")
    const file = join(root, "bad.json")
    writeFileSync(file, JSON.stringify({ numeric: { fma: "yes" } }))
    const dir = join(root, "never")
    const r = cli(["run", "--preset", "tiny", ...SETS, "--config", file, "--out", dir])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/Expected boolean\s+at \["numeric"\]\["fma"\]/)
    expect(existsSync(dir)).toBe(false)
    const unknown = cli(["run", "--preset", "tiny", ...SETS, "--set", "numeric.fast=true", "--out", dir])
    expect(unknown.status).toBe(2)
    expect(unknown.stderr).toMatch(/numeric\.fast/)
  })

  it("records the machine's fingerprint; --resume and replay pass here and are refused (exit 2) where it differs", () => {
    const root = tmp("fma-run")
    const dir = join(root, "run")
    const sets = [...SETS, "--set", "numeric.fma=true", "--set", "steps=4", "--set", "checkpointEvery=2"]
    const r = cli(["run", "--preset", "tiny", ...sets, "--out", dir])
    expect(r.status, r.stderr).toBe(0)
    const here = fmaFingerprint()
    expect(readRunCheckpoint(dir, 2).run.fmaFingerprint).toBe(here)
    expect(readRunCheckpoint(dir, 4).run.fmaFingerprint).toBe(here)
    // an exact run records none (its checkpoints keep their bytes)
    const exact = join(root, "exact")
    expect(cli(["run", "--preset", "tiny", ...SETS, "--set", "steps=2", "--out", exact]).status).toBe(0)
    expect(readRunCheckpoint(exact, 2).run.fmaFingerprint).toBeUndefined()
    // on this machine a re-run gives every step's bits again
    const replay = cli(["replay", dir])
    expect(replay.status, replay.stdout + replay.stderr).toBe(0)
    const hash = summaryOf(dir).finalStateHash
    // as if killed after step 2's checkpoint: the newest checkpoint is step 2's, the run unfinished
    rmSync(join(dir, "summary.json"))
    rmSync(join(dir, "checkpoints", "step-000004"), { recursive: true })
    // "another machine": the checkpoint says its bits came from one with the other fma behaviour
    const other = `${here.startsWith("fused") ? "unfused" : "fused"}-0123456789abcdef`
    fakeFingerprint(dir, 2, other)
    for (const args of [["run", "--resume", "--out", dir], ["replay", dir]]) {
      const refused = cli(args)
      expect(refused.status, refused.stdout + refused.stderr).toBe(2)
      expect(refused.stderr).toContain(`fmaFingerprint ${other}`)
      expect(refused.stderr).toMatch(/numeric\.fma/)
      expect(refused.stderr).toContain(here)
    }
    expect(existsSync(join(dir, "summary.json"))).toBe(false)
    // this machine's own record: the resume finishes with the uninterrupted run's bits
    fakeFingerprint(dir, 2, here)
    const resumed = cli(["run", "--resume", "--out", dir])
    expect(resumed.status, resumed.stderr).toBe(0)
    expect(summaryOf(dir).finalStateHash).toBe(hash)
  }, 120_000)
})
