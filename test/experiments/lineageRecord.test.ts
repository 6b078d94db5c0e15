/**
 * The pure parts of writing lineage.jsonl: a step's record (an item table shared by the contexts, sources
 * resolved from earlier records), the items a step created (diffed by id, untouched records skipped), a
 * resume's truncation (torn last line dropped, later steps cut) and replay's comparison.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import type { StepLineage } from "../../actors/orchestrator/step.ts"
import { firstLineageDifference, lineageRecord, lineageWriter, truncateLineage } from "../../src/experiments/lineage.ts"
import { createdItems, type MemorySnapshot } from "../../src/experiments/lineageCreated.ts"
import { emptyBank, type Behavior } from "../../src/memory/behavior/behavior.ts"
import type { ExperienceItem, ProblemExperience } from "../../src/memory/experience/experience.ts"
import type { Insight, ProblemInsights } from "../../src/memory/insight/insights.ts"
import { emptyMemp, type MempItem } from "../../src/memory/memp/memp.ts"
import { emptyMemory } from "../../src/memory/state.ts"
import { type LineageRecord, lineageLine, parseLineage } from "../../src/report/lineageFile.ts"
import { tmp } from "./cliHelpers.ts"

const rollout = (id: string, problemId: string, reward: number, refs: Array<string> = [], kind: StepLineage["rollouts"][number]["kind"] = "memory") =>
  ({ id, problemId, reward, solved: reward >= 1, policyVersion: 3, kind, refs })

describe("a step's lineage record", () => {
  it("shares one item table between the contexts and resolves sources from known rollouts", () => {
    const l: StepLineage = {
      read: { seq: 7, id: "v7" },
      rollouts: [rollout("s000002/p/r000", "p", 1, ["ins-a", "s000001/p/r001"]), rollout("s000002/p/r001", "p", 0, ["s000001/p/r001"]), rollout("s000002/q/r000", "q", 0, [], "none")]
    }
    const known = new Map([["s000001/p/r001", [2, 1, 0.5] as const], ["s000002/p/r000", [3, 3, 1] as const]])
    const r = lineageRecord(3, l, [{ id: "ins-b", kind: "insight", sources: ["s000001/p/r001", "s000002/p/r000", "lost"] }], known)
    expect(r).toEqual({
      step: 3, read: [7, "v7"], items: [["ins-a", 7], ["s000001/p/r001", 7]],
      contexts: [["s000002/p/r000", "p", 1, 1, 3, "memory", [0, 1]], ["s000002/p/r001", "p", 0, 0, 3, "memory", [1]], ["s000002/q/r000", "q", 0, 0, 3, "none", []]],
      created: [["ins-b", "insight", [["s000001/p/r001", 2, 1, 0.5], ["s000002/p/r000", 3, 3, 1], ["lost", null, null, null]]]]
    })
    expect(parseLineage(lineageLine(r), "f")).toEqual([r])
    expect(() => lineageRecord(1, { read: null, rollouts: [rollout("x", "p", 0, ["ins-a"])] }, [], new Map())).toThrow(/no memory was read/)
  })
})

const exp = (id: string, success: boolean): ExperienceItem => ({ id, response: [1], feedback: [], success, prov: { rolloutId: id, policyVersion: 1, step: 0, reward: success ? 1 : 0 } })
const pexp = (problemId: string, items: Array<ExperienceItem>): ProblemExperience =>
  ({ problemId, successes: items.filter((i) => i.success), failures: items.filter((i) => !i.success), attempts: items.length, solved: 0 })
const ins = (id: string, rolloutIds: Array<string>): Insight =>
  ({ id, problemId: "p", kind: "strategy", tokens: [1], feedback: [], contrastive: false, confidence: 1, support: 1, sources: { rolloutIds, policyVersion: 1, step: 0 } })
const pins = (problemId: string, strategies: Array<Insight>): ProblemInsights => ({ problemId, strategies, lessons: [] })
const beh = (id: string, rolloutIds: Array<string>): Behavior =>
  ({ id, kind: "skill", tokens: [1], problemIds: ["p"], support: 1, hits: 0, successes: 0, sources: { rolloutIds, policyVersion: 1, step: 0 }, key: new Float32Array(1), cluster: "p" })
const memp = (rolloutId: string): MempItem => ({
  id: `memp-${rolloutId}`, problemId: "p", query: [1], procedure: [1], avoid: [], hits: 0, successes: 0,
  prov: { rolloutId, policyVersion: 1, step: 0, reward: 1 }, queryVec: new Float32Array(1), facts: []
})

describe("items a step created", () => {
  it("experience, insights, behaviors and Memp items new by id, each with its sources; untouched records skipped", () => {
    const q = pexp("q", [exp("old-q", true)])
    const before: MemorySnapshot = {
      state: { experience: new Map([["p", pexp("p", [exp("e1", true)])], ["q", q]]), insights: new Map([["p", pins("p", [ins("ins-1", ["e1"])])]]), bank: { behaviors: [beh("beh-1", ["e1"])], retired: [] } },
      memp: { items: [memp("e1")] }
    }
    const after: MemorySnapshot = {
      state: {
        experience: new Map([["p", pexp("p", [exp("e1", true), exp("e3", false)])], ["q", q], ["r", pexp("r", [exp("e2", true)])]]),
        insights: new Map([["p", pins("p", [ins("ins-1", ["e1", "e3"]), ins("ins-2", ["e1", "e3"])])]]),
        bank: { behaviors: [beh("beh-1", ["e1", "e3"]), beh("beh-2", ["e3"])], retired: [] }
      },
      memp: { items: [memp("e1"), memp("e3")] }
    }
    expect(createdItems(before, after)).toEqual([
      { id: "e2", kind: "experience", sources: ["e2"] }, { id: "e3", kind: "experience", sources: ["e3"] },
      { id: "ins-2", kind: "insight", sources: ["e1", "e3"] },
      { id: "beh-2", kind: "behavior", sources: ["e3"] },
      { id: "memp-e3", kind: "memp", sources: ["e3"] }
    ])
    expect(createdItems(after, after)).toEqual([])
    expect(createdItems({ state: emptyMemory, memp: emptyMemp }, { state: { ...emptyMemory, bank: emptyBank }, memp: emptyMemp })).toEqual([])
  })
})

describe("lineage.jsonl on disk", () => {
  const l = (step: number): StepLineage => ({ read: { seq: step, id: `v${step}` }, rollouts: [rollout(`s${step}/p/r000`, "p", step % 2, step > 1 ? [`s${step - 1}/p/r000`] : [])] })

  it("a resumed writer keeps the records up to its checkpoint, drops a torn line, and resolves sources from the kept ones", () => {
    const dir = tmp("lineage")
    const w = lineageWriter(dir, [])
    for (const s of [1, 2, 3]) w.append(s, l(s), [])
    writeFileSync(join(dir, "lineage.jsonl"), `${readFileSync(join(dir, "lineage.jsonl"), "utf8")}{"step":4,"re`)
    const kept = truncateLineage(dir, 2)
    expect(kept.map((r) => r.step)).toEqual([1, 2])
    expect(parseLineage(readFileSync(join(dir, "lineage.jsonl"), "utf8"), "f")).toEqual(kept)
    lineageWriter(dir, kept).append(3, l(3), [{ id: "s2/p/r000", kind: "experience", sources: ["s2/p/r000", "s1/p/r000"] }])
    const after = parseLineage(readFileSync(join(dir, "lineage.jsonl"), "utf8"), "f")
    expect(after.map((r) => r.step)).toEqual([1, 2, 3])
    expect(after[2]!.created).toEqual([["s2/p/r000", "experience", [["s2/p/r000", 2, 3, 0], ["s1/p/r000", 1, 3, 1]]]])
    // a run from before lineage was recorded: nothing kept, nothing written until its next step
    const old = tmp("lineage-none")
    expect(truncateLineage(old, 5)).toEqual([])
    expect(existsSync(join(old, "lineage.jsonl"))).toBe(false)
  })

  it("replay's comparison names the first differing step and field", () => {
    const recs: Array<LineageRecord> = [1, 2, 3].map((s) => lineageRecord(s, l(s), [], new Map()))
    expect(firstLineageDifference(recs, recs)).toBeUndefined()
    const edited = recs.map((r) => (r.step === 2 ? { ...r, contexts: [[...r.contexts[0]!.slice(0, 2), 0.5, ...r.contexts[0]!.slice(3)] as unknown as typeof r.contexts[0]] } : r))
    expect(firstLineageDifference(recs, edited)).toEqual({ step: 2, detail: `contexts[0]: expected ${JSON.stringify(recs[1]!.contexts[0])}, got ${JSON.stringify(edited[1]!.contexts[0])}` })
    expect(firstLineageDifference(recs, recs.slice(0, 2))).toEqual({ step: 3, detail: "the run has a record for step 3 that the re-run did not write" })
    expect(firstLineageDifference(recs.slice(0, 2), recs)?.step).toBe(3)
  })
})
