/**
 * Run directories a user can trust (issue #12): each defect found by a careless or hostile user, as a
 * regression test through the CLI. --force removes only a pmdsim run's own files; a changed sweep or
 * config.json is refused with the fields named; a kill before the first checkpoint resumes; one writer
 * per directory; sweep children stop when their parent dies; bad flags and damaged files exit 2.
 */
import { spawn, spawnSync } from "node:child_process"
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { hostname } from "node:os"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { afterStep, cli, cliAsync, MAIN, SETS, summaryOf, tmp, trainSteps } from "./cliHelpers.ts"

const RUN = ["run", "--preset", "tiny", ...SETS]
let root: string
let complete: string

beforeAll(() => {
  root = tmp("safety")
  complete = join(root, "complete")
  const r = cli([...RUN, "--out", complete])
  expect(r.status, r.stderr).toBe(0)
}, 120_000)

const copyOf = (name: string): string => {
  const d = join(root, name)
  cpSync(complete, d, { recursive: true })
  return d
}

describe("--force removes only a pmdsim run", () => {
  it("refuses a directory that is not a run (exit 2) and deletes nothing", () => {
    const x = join(root, "notarun")
    mkdirSync(join(x, "src"), { recursive: true })
    writeFileSync(join(x, "config.json"), "{}")
    writeFileSync(join(x, "src", "important.txt"), "keep")
    const r = cli([...RUN, "--out", x, "--force"])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/not a pmdsim run directory/)
    expect(readFileSync(join(x, "src", "important.txt"), "utf8")).toBe("keep")
  })

  it("on a run, removes the run's files and keeps a user's file beside them", () => {
    const d = copyOf("forced")
    writeFileSync(join(d, "notes.txt"), "mine")
    const r = cli([...RUN, "--set", "steps=2", "--out", d, "--force"])
    expect(r.status, r.stderr).toBe(0)
    expect(readFileSync(join(d, "notes.txt"), "utf8")).toBe("mine")
    expect(trainSteps(d)).toEqual([1, 2])
  })

  it("without --force an existing run is refused with exit 3", () => {
    const r = cli([...RUN, "--out", complete])
    expect(r.status).toBe(3)
    expect(r.stderr).toMatch(/--force/)
  })
})

describe("a run's config is bound to its checkpoints", () => {
  it("resume with an edited result field exits 2 naming it; a speed-only change is accepted", () => {
    const d = copyOf("edited")
    rmSync(join(d, "summary.json"))
    rmSync(join(d, "checkpoints", "step-000004"), { recursive: true })
    const file = join(d, "config.json")
    const original = readFileSync(file, "utf8")
    writeFileSync(file, original.replace(/"lr": [0-9.e-]+/, "\"lr\": 0.001"))
    const bad = cli(["run", "--resume", "--out", d])
    expect(bad.status).toBe(2)
    expect(bad.stderr).toMatch(/optim\.lr: 0\.0003 -> 0\.001/)
    writeFileSync(file, original.replace(/"workers": \d+/, "\"workers\": 2"))
    const ok = cli(["run", "--resume", "--out", d])
    expect(ok.status, ok.stderr).toBe(0)
    expect(summaryOf(d).finalStateHash).toBe(summaryOf(complete).finalStateHash)
  })

  it("--set with --resume is refused (exit 2): fork is the way to change a run", () => {
    const r = cli(["run", "--resume", "--set", "steps=8", "--out", complete])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/fork/)
  })
})

describe("a kill before the first checkpoint", () => {
  it("resumes as a fresh start to the same hash, with each metrics row once, and report works", () => {
    for (const removeMemory of [false, true]) {
      const d = copyOf(`early-${removeMemory}`)
      rmSync(join(d, "checkpoints"), { recursive: true })
      rmSync(join(d, "summary.json"))
      if (removeMemory) rmSync(join(d, "memory"), { recursive: true })
      const r = cli(["run", "--resume", "--out", d])
      expect(r.status, r.stderr).toBe(0)
      expect(summaryOf(d).finalStateHash).toBe(summaryOf(complete).finalStateHash)
      expect(trainSteps(d)).toEqual([1, 2, 3, 4])
      expect(cli(["report", d]).status).toBe(0)
    }
  })

  it("a resumed run's summary carries the same final metrics as an uninterrupted one", () => {
    const d = copyOf("last-step")
    rmSync(join(d, "summary.json"))
    expect(cli(["run", "--resume", "--out", d]).status).toBe(0)
    expect(summaryOf(d).final.eval).toEqual(summaryOf(complete).final.eval)
  })
})

describe("one writer per directory", () => {
  it("a second writer exits 3 naming the holder; a dead holder's lock is taken over", async () => {
    const d = join(root, "locked")
    const child = spawn(process.execPath, [MAIN, ...RUN, "--set", "steps=40", "--out", d], { stdio: "ignore" })
    await afterStep(d, 1)
    // stopped, the writer stays alive and holding its lock however long the four commands below take
    // (on a loaded machine a running one finished its 40 steps before the last of them, once)
    child.kill("SIGSTOP")
    for (const args of [["run", "--resume", "--out", d], [...RUN, "--out", d, "--force"], ["report", d], ["fork", complete, "--step", "2", "--out", d, "--force"]]) {
      const r = cli(args)
      expect(r.status, args.join(" ")).toBe(3)
      expect(r.stderr).toMatch(new RegExp(`being written by pid ${child.pid}`))
    }
    child.kill("SIGKILL")
    await new Promise((r) => child.on("close", r))
    const resumed = await cliAsync(["run", "--resume", "--out", d])
    expect(resumed.status, resumed.output).toBe(0)
    expect(resumed.output).toMatch(new RegExp(`took over the stale lock of pid ${child.pid}`))
  }, 180_000)

  it("a sweep whose run another process writes exits 3 naming it, and finishes once that process is gone", () => {
    const d = join(root, "busy")
    const spec = join(root, "busy.json")
    writeFileSync(spec, JSON.stringify({ preset: "tiny", methods: ["grpo"], seeds: [1], set: { steps: 2, base: "scratch", "eval.problems": 4 } }))
    mkdirSync(join(d, "grpo-s1"), { recursive: true })
    // held by this (live) test process, as a crashed sweep's orphan still finishing its step would hold it
    const lock = join(d, "grpo-s1", "pmdsim.lock")
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), startedAtMs: 0, procStart: null, command: "run" }))
    const busy = cli(["sweep", "--config", spec, "--out", d])
    expect(busy.status, busy.stdout + busy.stderr).toBe(3)
    expect(busy.stdout).toMatch(/busy: grpo-s1 still written by another process/)
    rmSync(lock)
    const again = cli(["sweep", "--config", spec, "--out", d])
    expect(again.status, again.stdout + again.stderr).toBe(0)
    expect(trainSteps(join(d, "grpo-s1"))).toEqual([1, 2])
  }, 120_000)

  it("a sweep's children stop at a checkpoint when the sweep is killed, and leave no orphan", async () => {
    const d = join(root, "orphans")
    const spec = join(root, "orphans.json")
    writeFileSync(spec, JSON.stringify({ preset: "tiny", methods: ["grpo"], seeds: [1], set: { steps: 60, base: "scratch", "eval.problems": 4 } }))
    const sweep = spawn(process.execPath, [MAIN, "sweep", "--config", spec, "--out", d], { stdio: "ignore" })
    await afterStep(join(d, "grpo-s1"), 1)
    sweep.kill("SIGKILL")
    // the child notices within a step, checkpoints and exits: its lock is released
    const lock = join(d, "grpo-s1", "pmdsim.lock")
    for (let i = 0; i < 120 && existsSync(lock); i++) await new Promise((r) => setTimeout(r, 250))
    expect(existsSync(lock)).toBe(false)
    expect(existsSync(join(d, "grpo-s1", "summary.json"))).toBe(false)
    const steps = trainSteps(join(d, "grpo-s1"))
    expect(steps.length).toBeLessThan(60)
    expect(existsSync(join(d, "grpo-s1", "checkpoints", `step-${String(steps.at(-1)).padStart(6, "0")}`))).toBe(true)
  }, 180_000)
})

describe("signals reach a sweep's children", () => {
  it("SIGTERM to a sweep: its child checkpoints and exits, the sweep exits 130, and the same command finishes it", async () => {
    const d = join(root, "sigterm")
    const spec = join(root, "sigterm.json")
    writeFileSync(spec, JSON.stringify({ preset: "tiny", methods: ["grpo"], seeds: [1], set: { steps: 12, base: "scratch", "eval.problems": 4 } }))
    const sweep = spawn(process.execPath, [MAIN, "sweep", "--config", spec, "--out", d], { stdio: "ignore" })
    await afterStep(join(d, "grpo-s1"), 1)
    sweep.kill("SIGTERM")
    const code = await new Promise((r) => sweep.on("close", r))
    expect(code).toBe(130)
    expect(existsSync(join(d, "grpo-s1", "pmdsim.lock"))).toBe(false)
    expect(existsSync(join(d, "grpo-s1", "summary.json"))).toBe(false)
    const again = await cliAsync(["sweep", "--config", spec, "--out", d])
    expect(again.status, again.output).toBe(0)
    expect(trainSteps(join(d, "grpo-s1"))).toEqual(Array.from({ length: 12 }, (_, i) => i + 1))
  }, 180_000)
})

describe("sweep identity", () => {
  it("a changed sweep file exits 3 naming runs and fields; --force redoes only those", () => {
    const d = join(root, "sweep")
    const spec = join(root, "sweep.json")
    const write = (steps: number, methods: Array<string>) =>
      writeFileSync(spec, JSON.stringify({ preset: "tiny", methods, seeds: [1], set: { steps, base: "scratch", "eval.problems": 4, "domainOptions.clusters": 4, "domainOptions.trainPerCluster": 4, "domainOptions.heldoutPerCluster": 2 } }))
    write(2, ["grpo"])
    expect(cli(["sweep", "--config", spec, "--out", d]).status).toBe(0)
    const before = summaryOf(join(d, "grpo-s1")).finalStateHash
    write(3, ["grpo", "sdpo"])
    const changed = cli(["sweep", "--config", spec, "--out", d])
    expect(changed.status).toBe(3)
    expect(changed.stderr).toMatch(/grpo-s1: steps: 2 -> 3/)
    expect(summaryOf(join(d, "grpo-s1")).finalStateHash).toBe(before)
    const forced = cli(["sweep", "--config", spec, "--out", d, "--force"])
    expect(forced.status, forced.stdout + forced.stderr).toBe(0)
    expect(trainSteps(join(d, "grpo-s1"))).toEqual([1, 2, 3])
    expect(trainSteps(join(d, "sdpo-s1"))).toEqual([1, 2, 3])
    const summary = JSON.parse(readFileSync(join(d, "sweep-summary.json"), "utf8")) as Array<{ setting: string }>
    expect(summary.map((s) => s.setting).sort()).toEqual(["grpo", "sdpo"])
  }, 180_000)
})

describe("exit codes and messages", () => {
  it("bad flags and arguments exit 2", () => {
    expect(cli(["run", "--seed", "abc", "--out", join(root, "x")]).status).toBe(2)
    expect(cli(["run", "--bogus", "--out", join(root, "x")]).status).toBe(2)
    expect(cli(["run", "--preset", "tiny"]).status).toBe(2)
    expect(cli(["run", "--help"]).status).toBe(0)
    expect(existsSync(join(root, "x"))).toBe(false)
  })

  it("damaged or missing files exit 2 naming the file", () => {
    const noIndex = copyOf("no-index")
    rmSync(join(noIndex, "memory", "index.pmi"))
    rmSync(join(noIndex, "summary.json"))
    const a = cli(["run", "--resume", "--out", noIndex])
    expect(a.status).toBe(2)
    expect(a.stderr).toMatch(/memory\/index\.pmi/)

    const truncated = copyOf("truncated-metrics")
    const m = readFileSync(join(truncated, "metrics.jsonl"), "utf8")
    writeFileSync(join(truncated, "metrics.jsonl"), m.slice(0, Math.floor(m.length / 2)))
    const b = cli(["report", truncated])
    expect(b.status).toBe(2)
    expect(b.stderr).toMatch(/metrics\.jsonl:\d+/)

    const noMetrics = copyOf("no-metrics")
    rmSync(join(noMetrics, "metrics.jsonl"))
    const c = cli(["fork", noMetrics, "--step", "2", "--out", join(root, "fork-of-damaged")])
    expect(c.status).toBe(2)
    expect(c.stderr).toMatch(/metrics\.jsonl/)
    expect(existsSync(join(root, "fork-of-damaged"))).toBe(false)

    const damagedCheckpoint = copyOf("damaged-checkpoint")
    const rs = join(damagedCheckpoint, "checkpoints", "step-000002", "run-state.bin")
    writeFileSync(rs, readFileSync(rs).subarray(0, 40))
    const e = cli(["fork", damagedCheckpoint, "--step", "2", "--out", join(root, "fork-of-damaged-2")])
    expect(e.status).toBe(2)
    expect(e.stderr).toMatch(/run-state\.bin/)
    expect(existsSync(join(root, "fork-of-damaged-2"))).toBe(false)
  })

  it("--out on a file, or below one, exits 2 with the reason", () => {
    const f = join(root, "a-file")
    writeFileSync(f, "x")
    const a = cli([...RUN, "--out", f])
    expect(a.status).toBe(2)
    expect(a.stderr).toMatch(/is a file/)
    const b = cli([...RUN, "--out", join(f, "sub")])
    expect(b.status).toBe(2)
    expect(b.stderr).toMatch(/file, not a directory|file is in the way/)
  })

  it("--out on a read-only file system exits 2 saying so (where this test may mount one)", () => {
    const mnt = join(root, "ro")
    mkdirSync(mnt)
    const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", mnt]).status === 0
    if (!mounted) return // not root: EROFS cannot be staged here; describeIoError is unit-tested in durableFile.test.ts
    try {
      const r = cli([...RUN, "--out", join(mnt, "run")])
      expect(r.status).toBe(2)
      expect(r.stderr).toMatch(/read-only file system/)
    } finally {
      spawnSync("umount", [mnt])
    }
  })
})
