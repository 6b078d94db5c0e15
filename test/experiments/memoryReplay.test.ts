/**
 * Trace-driven memory replay (issue #15 item 2) end to end: a tiny PMD run records rollouts.jsonl; `pmdsim
 * memory-replay` rebuilds its memory without the policy and reproduces every snapshot id (the recording is
 * complete); a changed consolidator (a smaller bank, a plug-in through the API) gives a non-empty diff; bad
 * inputs exit 2 (3 for an output of other inputs) before anything is written; a run killed around its
 * rollouts appends and resumed has a file byte-identical to an uninterrupted run's; a fork keeps its source's
 * records up to the fork step and replays from its fork point.
 */
import { Effect } from "effect"
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { memoryReplay, memoryReplayPromise, type MemoryReplayResult } from "../../src/api/index.ts"
import { DiskStore } from "../../src/memory/store/disk.ts"
import { pmdConsolidator } from "../../src/plugins/builtins.ts"
import { withPlugins } from "../../src/plugins/services.ts"
import { defineConsolidator } from "../../src/plugins/types.ts"
import { cli, cliAsync, SETS, tmp } from "./cliHelpers.ts"

/** Version ids of a store's main branch, oldest first. */
const historyIds = (memoryDir: string): Array<string> => {
  const store = DiskStore.open(memoryDir).store
  const head = store.head("main")
  return head === undefined ? [] : store.log(head.id).map((v) => v.id).reverse()
}
const json = (stdout: string) => JSON.parse(stdout) as MemoryReplayResult
const rolloutSteps = (dir: string) => readFileSync(join(dir, "rollouts.jsonl"), "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { step: number }).step)

describe("memory-replay of a tiny PMD run (E+I+B)", () => {
  // the warmed-up base (its rollouts solve some problems: insights and behaviors exist), 8 steps
  const root = tmp("memreplay")
  const run = join(root, "run")
  const BASE = ["--preset", "tiny", ...SETS.filter((s, i) => s !== "base=scratch" && SETS[i + 1] !== "base=scratch"), "--set", "memory.levels=EIB", "--set", "steps=8"]
  beforeAll(() => {
    const r = cli(["run", ...BASE, "--out", run])
    expect(r.status, r.stderr).toBe(0)
  }, 300_000)

  it("records one line per step and, with no change, reproduces every snapshot id of the run", () => {
    expect(rolloutSteps(run)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    const out = join(root, "same")
    const r = cli(["memory-replay", run, "--out", out])
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/identical: every one of the run's \d+ snapshot ids is reproduced, in order/)
    // checked on the stores themselves, not on the tool's word
    const runIds = historyIds(join(run, "memory"))
    expect(runIds.length).toBeGreaterThan(8)
    expect(historyIds(join(out, "memory"))).toEqual(runIds)
    const diff = JSON.parse(readFileSync(join(out, "diff.json"), "utf8")) as MemoryReplayResult
    expect(diff.identical).toBe(true)
    expect(diff.rows.every((x) => x.same && x.added + x.removed + x.changed === 0)).toBe(true)
    expect(diff.final).toEqual({ added: 0, removed: 0, changed: 0, retrievalOverlap: 1 })
    // a replay over its own output of the same inputs is allowed and writes the same
    const again = cli(["memory-replay", run, "--out", out, "--json"])
    expect(again.status, again.stderr).toBe(0)
    expect(json(again.stdout)).toEqual(diff)
  })

  it("a smaller bank (--set memory.bankCapacity=1) gives a non-empty diff, per version and in retrieval", () => {
    const out = join(root, "cap1")
    const r = cli(["memory-replay", run, "--out", out, "--set", "memory.bankCapacity=1", "--json"])
    expect(r.status, r.stderr).toBe(0)
    const d = json(r.stdout)
    expect(d.identical).toBe(false)
    expect(d.sets).toEqual(["memory.bankCapacity=1"])
    expect(d.final.removed).toBeGreaterThan(0)
    const differing = d.rows.filter((x) => !x.same)
    expect(differing.length).toBeGreaterThan(0)
    expect(differing.some((x) => x.label === "consolidator" && x.removed > 0)).toBe(true)
    expect(d.final.retrievalOverlap).not.toBeNull()
    expect(d.final.retrievalOverlap!).toBeLessThan(1)
    // the steps before the first consolidation are the run's own versions
    expect(d.rows[0]!.same).toBe(true)
    const text = cli(["memory-replay", run, "--out", out, "--set", "memory.bankCapacity=1"])
    expect(text.status, text.stderr).toBe(0)
    expect(text.stdout).toMatch(/differs: run \d+ versions, replay \d+; first at step \d+ \(consolidator\)/)
    expect(text.stdout).toContain("retrieval overlap")
  })

  it("the API replays with a plug-in from the registry in context, and as a Promise", async () => {
    // a consolidator that never changes the bank: every consolidation of the run is missing from the replay
    const keepBank = defineConsolidator({ name: "keep-bank", consolidate: (input) => ({ bank: input.bank, edits: [], clusters: 0 }) })
    const d = await Effect.runPromise(memoryReplay({ run, out: join(root, "keep-bank"), set: ["memory.consolidator=keep-bank"] }).pipe(Effect.provide(withPlugins(keepBank))))
    expect(d.plugins["memory.consolidator"]).toBe("keep-bank")
    expect(d.identical).toBe(false)
    expect(d.final.removed).toBeGreaterThan(0)
    expect(d.final.added).toBe(0)
    // the built-in under its own name replays the run exactly
    const same = await memoryReplayPromise({ run, out: join(root, "pmd"), set: [`memory.consolidator=${pmdConsolidator.name}`] })
    expect(same.identical).toBe(true)
    const missing = await memoryReplayPromise({ run: join(root, "nothing"), out: join(root, "never") }).catch((e: { _tag: string }) => e)
    expect((missing as { _tag: string })._tag).toBe("RunDirError")
  })

  it("bad inputs exit 2 naming the problem, before the output directory is touched", () => {
    const out = join(root, "bad")
    const cases: Array<[ReadonlyArray<string>, string]> = [
      [[join(root, "nope"), "--out", out], "nope: no such run directory"],
      [[run, "--out", out, "--set", "steps=3"], "--set steps: memory-replay changes memory.* fields only"],
      [[run, "--out", out, "--set", "memory.nope=1"], '["memory"]["nope"]'],
      [[run, "--out", out, "--set", "memory.bankCapacity=0"], "bankCapacity"],
      [[run, "--out", out, "--set", "memory.consolidator=top-usage"], "memory.consolidator: no consolidator named 'top-usage' is registered"],
      [[run, "--out", out, "--plugin", join(root, "missing.js")], "missing.js: no such file"],
      [[run, "--out", join(run, "inside")], "is inside the run"]
    ]
    for (const [args, message] of cases) {
      const r = cli(["memory-replay", ...args])
      expect(r.status, `${args.join(" ")}: ${r.stderr}`).toBe(2)
      expect(r.stderr).toContain(message)
    }
    expect(existsSync(out)).toBe(false)
    expect(existsSync(join(run, "inside"))).toBe(false)
    // a directory it did not write is never touched
    writeFileSync(join(root, "foreign-file"), "")
    const f = cli(["memory-replay", run, "--out", join(root, "foreign-file")])
    expect(f.status).toBe(2)
    expect(f.stderr).toContain("exists and is a file")
    const d = cli(["memory-replay", run, "--out", root])
    expect(d.status).toBe(2)
    expect(d.stderr).toContain("is not empty and is not a memory-replay output (no memory-replay.json)")
    expect(existsSync(join(root, "memory-replay.json"))).toBe(false)
    // an output of other inputs is refused (exit 3) and left as it was
    const before = readFileSync(join(root, "cap1", "diff.json"), "utf8")
    const other = cli(["memory-replay", run, "--out", join(root, "cap1")])
    expect(other.status, other.stderr).toBe(3)
    expect(other.stderr).toContain("holds a memory replay of other inputs")
    expect(readFileSync(join(root, "cap1", "diff.json"), "utf8")).toBe(before)
  })

  it("a run recorded before rollouts.jsonl existed, and a run without memory, exit 2 naming why", () => {
    const old = join(root, "old")
    expect(cli(["fork", run, "--step", "8", "--out", old]).status).toBe(0)
    rmSync(join(old, "rollouts.jsonl"))
    const r = cli(["memory-replay", old, "--out", join(root, "old-out")])
    expect(r.status).toBe(2)
    expect(r.stderr).toContain(`${join(old, "rollouts.jsonl")}: missing: this run was recorded before pmdsim recorded the rollouts`)
    const grpo = join(root, "grpo")
    expect(cli(["run", "--preset", "tiny", ...SETS, "--set", "steps=1", "--method", "grpo", "--out", grpo]).status).toBe(0)
    const g = cli(["memory-replay", grpo, "--out", join(root, "grpo-out")])
    expect(g.status).toBe(2)
    expect(g.stderr).toContain("method grpo keeps no memory")
    expect(existsSync(join(root, "grpo-out"))).toBe(false)
  }, 120_000)
})

describe("rollouts.jsonl survives kill -9 and resume, and forks", () => {
  const RUN = ["run", "--preset", "tiny", ...SETS, "--set", "memory.levels=EIB"]

  it("killed right around its rollouts appends and resumed: byte-identical to an uninterrupted run, and replayable", async () => {
    const root = tmp("memreplay-crash")
    const trace = join(root, "trace.txt")
    const straight = join(root, "straight")
    expect(cli([...RUN, "--out", straight], { PMDSIM_WRITE_TRACE: trace }).status).toBe(0)
    const points = readFileSync(trace, "utf8").trim().split("\n").map((l) => l.split(" "))
      .filter(([, , label, path]) => label === "append" && path!.endsWith("rollouts.jsonl")).map(([, n]) => Number(n))
    expect(points).toHaveLength(4)
    const want = readFileSync(join(straight, "rollouts.jsonl"), "utf8")
    // right after step 3's append (past the step-2 checkpoint: resume must cut it back), right before step 4's
    for (const n of [points[2]!, points[3]! - 1]) {
      const dir = join(root, `crash-${n}`)
      const crashed = await cliAsync([...RUN, "--out", dir], { PMDSIM_CRASH_AT_WRITE: String(n) })
      expect(crashed.signal, crashed.output).toBe("SIGKILL")
      expect(rolloutSteps(dir).length, `point ${n}`).toBeGreaterThanOrEqual(3)
      const resumed = await cliAsync(["run", "--resume", "--out", dir])
      expect(resumed.status, resumed.output).toBe(0)
      expect(readFileSync(join(dir, "rollouts.jsonl"), "utf8"), `point ${n}`).toBe(want)
    }
    const replay = cli(["memory-replay", join(root, `crash-${points[2]}`), "--out", join(root, "replayed")])
    expect(replay.status, replay.stderr).toBe(0)
    expect(replay.stdout).toContain("identical: every one")
  }, 600_000)

  it("a fork keeps its source's records up to the fork step, and replays exactly from its fork point", () => {
    const root = tmp("memreplay-fork")
    const src = join(root, "src")
    expect(cli([...RUN, "--out", src]).status).toBe(0)
    const out = join(root, "fork")
    // the fork changes the memory pipeline: its own steps still replay exactly
    const f = cli(["fork", src, "--step", "2", "--set", "steps=5", "--set", "memory.bankCapacity=2", "--out", out])
    expect(f.status, f.stderr).toBe(0)
    expect(rolloutSteps(out)).toEqual([1, 2, 3, 4, 5])
    const lines = (d: string) => readFileSync(join(d, "rollouts.jsonl"), "utf8").split("\n")
    expect(lines(out).slice(0, 2)).toEqual(lines(src).slice(0, 2))
    const r = cli(["memory-replay", out, "--out", join(root, "replayed"), "--json"])
    expect(r.status, r.stderr).toBe(0)
    const d = json(r.stdout)
    expect(d.from).toBe(2)
    expect(d.steps).toBe(3)
    expect(d.identical).toBe(true)
    expect(historyIds(join(root, "replayed", "memory"))).toEqual(historyIds(join(out, "memory")))
    expect(readdirSync(join(root, "replayed")).sort()).toEqual(["diff.json", "memory", "memory-replay.json"])
  }, 300_000)
})
