/**
 * The CLI end to end, as a user runs it: a tiny `pmdsim run`, refusal to overwrite, SIGKILL and
 * `--resume` to the same final state hash, `replay` passing (and failing on a tampered journal).
 */
import { spawn } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { decode, encode } from "../../src/core/Codec.ts"
import { hashValue } from "../../src/core/Hash.ts"
import { afterStep, cli as run, MAIN, SETS, summaryOf, tmp } from "./cliHelpers.ts"

const cli = (...args: Array<string>) => run(args)

describe("pmdsim CLI", () => {
  it("runs a tiny config, writes the run directory, refuses to overwrite it, and replays it", () => {
    const dir = join(tmp(), "run")
    const r = cli("run", "--preset", "tiny", ...SETS, "--out", dir)
    expect(r.status, r.stderr).toBe(0)
    for (const f of ["config.json", "summary.json", "metrics.jsonl", "journal.bin", "report.html", "memory", "checkpoints"]) expect(existsSync(join(dir, f)), f).toBe(true)
    expect(summaryOf(dir).finalStateHash).toMatch(/^[0-9a-f]{64}$/)
    const again = cli("run", "--preset", "tiny", ...SETS, "--out", dir)
    expect(again.status).toBe(3)
    expect(again.stderr).toMatch(/--force/)
    const ok = cli("replay", dir)
    expect(ok.status, ok.stdout + ok.stderr).toBe(0)
    // tamper with one state digest: replay must name the step
    const file = join(dir, "journal.bin")
    const j = decode(readFileSync(file)) as { entries: Array<{ step: number; kind: string; digest: string }>; checksum: string }
    const target = j.entries.find((e) => e.kind === "state" && e.step === 3)!
    target.digest = "0".repeat(64)
    // keep the file's checksum valid (it is the canonical hash of its entries): only the digest lies
    j.checksum = hashValue(j.entries)
    writeFileSync(file, encode(j))
    const bad = cli("replay", dir)
    expect(bad.status).toBe(4)
    expect(bad.stdout).toMatch(/diverged at step 3/)
  })

  it("a run killed with SIGKILL resumes to the same final state hash as an uninterrupted run (on 2 threads)", async () => {
    const root = tmp()
    const steps = ["--set", "steps=6", "--set", "checkpointEvery=2", "--set", "eval.every=3"]
    // the uninterrupted run uses 2 XNNPACK threads, the killed one 1: results may not depend on it
    const straight = cli("run", "--preset", "tiny", ...SETS, ...steps, "--threads", "2", "--out", join(root, "straight"))
    expect(straight.status, straight.stderr).toBe(0)
    const dir = join(root, "killed")
    const child = spawn(process.execPath, [MAIN, "run", "--preset", "tiny", ...SETS, ...steps, "--out", dir], { stdio: "ignore" })
    // kill it once step 3 is done (a checkpoint exists at step 2, step 3's metrics are written)
    await afterStep(dir, 3)
    child.kill("SIGKILL")
    await new Promise((r) => child.on("close", r))
    expect(existsSync(join(dir, "summary.json"))).toBe(false)
    const resumed = cli("run", "--resume", "--out", dir)
    expect(resumed.status, resumed.stderr).toBe(0)
    expect(summaryOf(dir).finalStateHash).toBe(summaryOf(join(root, "straight")).finalStateHash)
    // the resumed metrics have each step exactly once
    const steps2 = readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((r) => r.kind === "train").map((r) => r.step)
    expect(steps2).toEqual([1, 2, 3, 4, 5, 6])
  })

  it("SIGINT checkpoints and exits 130; --resume finishes; fork starts a new run from a checkpoint", async () => {
    const root = tmp()
    const dir = join(root, "interrupted")
    const steps = ["--set", "steps=4", "--set", "checkpointEvery=4", "--set", "eval.every=4"]
    const child = spawn(process.execPath, [MAIN, "run", "--preset", "tiny", ...SETS, ...steps, "--out", dir], { stdio: "ignore" })
    await afterStep(dir, 1)
    child.kill("SIGINT")
    const code = await new Promise((r) => child.on("close", r))
    expect(code).toBe(130)
    expect(existsSync(join(dir, "summary.json"))).toBe(false)
    expect(readFileSync(join(dir, "metrics.jsonl"), "utf8")).toMatch(/"kind":"train","step":[12]/)
    const resumed = cli("run", "--resume", "--out", dir)
    expect(resumed.status, resumed.stderr).toBe(0)
    const straight = cli("run", "--preset", "tiny", ...SETS, ...steps, "--out", join(root, "straight"))
    expect(straight.status).toBe(0)
    expect(summaryOf(dir).finalStateHash).toBe(summaryOf(join(root, "straight")).finalStateHash)
    const fork = cli("fork", join(root, "straight"), "--step", "4", "--set", "steps=5", "--set", "method=\"grpo\"", "--out", join(root, "fork"))
    expect(fork.status, fork.stderr).toBe(0)
    const forked = JSON.parse(readFileSync(join(root, "fork", "summary.json"), "utf8")) as { method: string; steps: number }
    expect(forked).toMatchObject({ method: "grpo", steps: 5 })
    expect(cli("fork", join(root, "straight"), "--step", "3", "--out", join(root, "nofork")).status).toBe(2)
  })

  it("bad input gets a typed message and an exit code, and writes nothing", () => {
    const dir = join(tmp(), "never")
    const r = cli("run", "--preset", "tiny", "--set", "groupSize=0", "--out", dir)
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/groupSize/)
    expect(existsSync(dir)).toBe(false)
    expect(cli("run", "--resume", "--out", dir).status).toBe(2)
    expect(cli("replay", dir).status).toBe(2)
  })
})
