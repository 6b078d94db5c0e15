/**
 * Memory lineage end to end (issue #14 item 5): a tiny PMD run writes lineage.jsonl with one record per step;
 * every item a teacher context names is in memory at the version named; `pmdsim lineage` prints the ranking
 * and an item's provenance, as text and JSON, and exits 2 on an unknown item, a missing run or a missing file;
 * the report shows "What memory taught". A run crashed right around its lineage appends and resumed holds
 * exactly one record per step, replays (lineage compared record by record) and forks cleanly; the same run
 * with one lineage record edited fails replay (exit 4) naming the step.
 */
import { cpSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { DiskStore } from "../../src/memory/store/disk.ts"
import { VersionedMemory } from "../../src/memory/versioned.ts"
import { type LineageRecord, parseLineage } from "../../src/report/lineageFile.ts"
import { cli, cliAsync, SETS, tmp, trainSteps } from "./cliHelpers.ts"

const records = (dir: string): Array<LineageRecord> => parseLineage(readFileSync(join(dir, "lineage.jsonl"), "utf8"), join(dir, "lineage.jsonl"))

/** Every memory item id of a store version (experience, insights, behaviors, Memp items). */
const idsAt = (vm: VersionedMemory, version: string): Set<string> => {
  if (version === "empty") return new Set()
  const { state, memp } = vm.checkoutAll(version)
  return new Set([
    ...[...state.experience.values()].flatMap((e) => [...e.successes, ...e.failures].map((i) => i.id)),
    ...[...state.insights.values()].flatMap((i) => [...i.strategies, ...i.lessons].map((x) => x.id)),
    ...state.bank.behaviors.map((b) => b.id),
    ...memp.items.map((i) => i.id)
  ])
}

describe("memory lineage of a tiny PMD run", () => {
  // the warmed-up base (not scratch weights), so that the student solves some problems, and 8 steps, so that
  // problems come back (4 steps are one epoch of the 16 training problems): items become measurable
  const root = tmp("lineage")
  const dir = join(root, "run")
  const RUN = ["run", "--preset", "tiny", ...SETS.filter((s, i) => s !== "base=scratch" && SETS[i + 1] !== "base=scratch"), "--set", "memory.levels=EIB", "--set", "steps=8"]
  beforeAll(() => {
    const r = cli([...RUN, "--out", dir])
    expect(r.status, r.stderr).toBe(0)
  }, 300_000)

  it("writes one record per step, every rollout's context, and only items memory held at the version read", () => {
    const recs = records(dir)
    expect(recs.map((r) => r.step)).toEqual(trainSteps(dir))
    expect(recs.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    const vm = new VersionedMemory(DiskStore.open(join(dir, "memory")).store, "main")
    let refs = 0
    for (const r of recs) {
      expect(r.contexts).toHaveLength(16) // tiny: 4 problems × 4 rollouts
      expect(r.read).not.toBeNull()
      const held = idsAt(vm, r.read![1])
      for (const [id, version] of r.items) {
        expect(version, `step ${r.step} ${id}`).toBe(r.read![0])
        expect(held.has(id), `step ${r.step}: ${id} is not in memory version ${r.read![0]}`).toBe(true)
      }
      refs += r.contexts.reduce((a, c) => a + c[6].length, 0)
    }
    expect(refs).toBeGreaterThan(0)
    // every level creates items, and an experience item is made from its own rollout, sampled that step
    const created = recs.flatMap((r) => r.created.map((c) => ({ step: r.step, c })))
    expect(new Set(created.map((x) => x.c[1]))).toEqual(new Set(["experience", "insight", "behavior"]))
    for (const { step, c } of created.filter((x) => x.c[1] === "experience")) expect(c[2]).toEqual([[c[0], step, expect.any(Number), expect.any(Number)]])
    for (const { c } of created) for (const s of c[2]) expect(s[1], `${c[0]} from ${s[0]}`).not.toBeNull()
  })

  it("pmdsim lineage ranks the items, as a table and as JSON, and shows one item's provenance", () => {
    const text = cli(["lineage", dir, "--top", "5"])
    expect(text.status, text.stderr).toBe(0)
    expect(text.stdout).toMatch(/^memory lineage of .*: 8 steps, \d+ items shown to the teacher, \d+ measurable/)
    expect(text.stdout).toContain("rank  item")
    const json = JSON.parse(cli(["lineage", dir, "--json", "--top", "5"]).stdout) as { steps: number; ranked: Array<{ rank: number; id: string; taught: number; timesShown: number }> }
    expect(json.steps).toBe(8)
    expect(json.ranked.length).toBeGreaterThan(0)
    expect(json.ranked.length).toBeLessThanOrEqual(5)
    for (let i = 1; i < json.ranked.length; i++) expect(json.ranked[i - 1]!.taught).toBeGreaterThanOrEqual(json.ranked[i]!.taught)
    const top = json.ranked[0]!
    expect(text.stdout).toContain(top.id)
    const item = cli(["lineage", dir, "--item", top.id])
    expect(item.status, item.stderr).toBe(0)
    expect(item.stdout).toContain(`item ${top.id}`)
    expect(item.stdout).toContain(`shown to ${top.timesShown} teacher contexts`)
    expect(item.stdout).toMatch(/problem\s+shown\s+first shown\s+before\s+after/)
    const itemJson = JSON.parse(cli(["lineage", dir, "--item", top.id, "--json"]).stdout) as { id: string; shown: Array<unknown>; taught: number }
    expect(itemJson.id).toBe(top.id)
    expect(itemJson.shown).toHaveLength(top.timesShown)
    expect(itemJson.taught).toBeCloseTo(top.taught, 12)
  })

  it("an unknown item, a missing run and a run without lineage exit 2 naming what is missing", () => {
    const unknown = cli(["lineage", dir, "--item", "ins-nope"])
    expect(unknown.status).toBe(2)
    expect(unknown.stderr).toContain('item "ins-nope" does not appear in')
    expect(unknown.stderr).toContain("lineage.jsonl")
    const missing = cli(["lineage", join(root, "nothing-here")])
    expect(missing.status).toBe(2)
    expect(missing.stderr).toContain("nothing-here: no such run directory")
    const bare = tmp("lineage-bare")
    const none = cli(["lineage", bare])
    expect(none.status).toBe(2)
    expect(none.stderr).toContain(`${join(bare, "lineage.jsonl")}: missing`)
  })

  it("the report has a 'What memory taught' section", () => {
    expect(cli(["report", dir]).status).toBe(0)
    const html = readFileSync(join(dir, "report.html"), "utf8")
    expect(html).toContain('<section id="lineage">')
    expect(html).toContain("What memory taught")
  })
})

describe("lineage survives crashes, resumes, forks and replays", () => {
  const RUN = ["run", "--preset", "tiny", ...SETS]

  it("crashed around its lineage appends and resumed: one record per step; replay passes, and fails on an edited record", async () => {
    const root = tmp("lineage-crash")
    // where the lineage appends fall (the durable file layer's crash points)
    const trace = join(root, "trace.txt")
    expect(cli([...RUN, "--out", join(root, "straight")], { PMDSIM_WRITE_TRACE: trace }).status).toBe(0)
    const points = readFileSync(trace, "utf8").trim().split("\n").map((l) => l.split(" ")).filter(([, , label, path]) => label === "append" && path!.endsWith("lineage.jsonl")).map(([, n]) => Number(n))
    expect(points).toHaveLength(4)
    // right after step 3's lineage append (past the step-2 checkpoint), and right before step 4's (its metrics written)
    for (const n of [points[2]!, points[3]! - 1]) {
      const dir = join(root, `crash-${n}`)
      const crashed = await cliAsync([...RUN, "--out", dir], { PMDSIM_CRASH_AT_WRITE: String(n) })
      expect(crashed.signal, crashed.output).toBe("SIGKILL")
      expect(records(dir).length, `point ${n}`).toBeGreaterThanOrEqual(3)
      const resumed = await cliAsync(["run", "--resume", "--out", dir])
      expect(resumed.status, resumed.output).toBe(0)
      expect(records(dir).map((r) => r.step), `point ${n}`).toEqual([1, 2, 3, 4])
      expect(readFileSync(join(dir, "lineage.jsonl"), "utf8"), `point ${n}`).toBe(readFileSync(join(root, "straight", "lineage.jsonl"), "utf8"))
    }
    const dir = join(root, `crash-${points[2]}`)
    const replay = await cliAsync(["replay", dir])
    expect(replay.status, replay.output).toBe(0)
    expect(replay.output).toContain("every step's state hash and every lineage record matches")
    // one reward of step 3 edited: the journal still matches, the lineage does not
    const edited = join(root, "edited")
    cpSync(dir, edited, { recursive: true })
    const lines = readFileSync(join(edited, "lineage.jsonl"), "utf8").split("\n")
    lines[2] = lines[2]!.replace(/("contexts":\[\["[^"]+","[^"]+",)0,0,/, "$11,1,")
    expect(lines[2]).not.toBe(readFileSync(join(dir, "lineage.jsonl"), "utf8").split("\n")[2])
    writeFileSync(join(edited, "lineage.jsonl"), lines.join("\n"))
    const diverged = await cliAsync(["replay", edited])
    expect(diverged.status, diverged.output).toBe(4)
    expect(diverged.output).toMatch(/diverged at step 3 \(lineage, record\).*contexts\[0\]: expected \["[^"]+","[^"]+",1,1,/)
  }, 600_000)

  it("a fork keeps its source's records up to the fork step and continues with one per step", () => {
    const root = tmp("lineage-fork")
    const src = join(root, "src")
    expect(cli([...RUN, "--out", src]).status).toBe(0)
    const out = join(root, "fork")
    const f = cli(["fork", src, "--step", "2", "--set", "steps=5", "--out", out])
    expect(f.status, f.stderr).toBe(0)
    const forked = records(out)
    expect(forked.map((r) => r.step)).toEqual([1, 2, 3, 4, 5])
    expect(forked.slice(0, 2)).toEqual(records(src).slice(0, 2))
  }, 300_000)
})
