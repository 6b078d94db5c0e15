/** Reflector / consolidator quality against ground truth (src/memory/quality.ts), on hand-built memory. */
import { describe, expect, it } from "vitest"
import type { Behavior } from "../../src/memory/behavior/behavior.ts"
import type { ExperienceItem, ProblemExperience } from "../../src/memory/experience/experience.ts"
import type { Insight, ProblemInsights } from "../../src/memory/insight/insights.ts"
import { containsRun, type GroundTruth, reflectorQuality } from "../../src/memory/quality.ts"
import type { MemoryState } from "../../src/memory/state.ts"

const item = (id: string, response: Array<number>, success: boolean, reward = success ? 1 : 0): ExperienceItem =>
  ({ id, response, feedback: success ? [] : [99], success, prov: { rolloutId: id, policyVersion: 0, step: 1, reward } })
const insight = (id: string, problemId: string, kind: "strategy" | "lesson", tokens: Array<number>): Insight =>
  ({ id, problemId, kind, tokens, feedback: [], contrastive: true, confidence: 0.5, support: 1, sources: { rolloutIds: [], policyVersion: 0, step: 1 } })
const behavior = (id: string, kind: "skill" | "avoid", tokens: Array<number>, problemIds: Array<string>): Behavior =>
  ({ id, kind, tokens, problemIds, support: problemIds.length, hits: 0, successes: 0, sources: { rolloutIds: [], policyVersion: 0, step: 1 }, key: new Float32Array(2), cluster: problemIds[0]! })

// two clusters: cluster 0's skill is [10, 11], cluster 1's is [20, 21]
const truth = new Map<string, GroundTruth>([["a", { cluster: 0, skill: [10, 11] }], ["b", { cluster: 0, skill: [10, 11] }], ["c", { cluster: 1, skill: [20, 21] }]])

describe("reflectorQuality", () => {
  it("counts, per kind of item, how often it names what ground truth says it should", () => {
    const exp = (problemId: string, successes: Array<ExperienceItem>, failures: Array<ExperienceItem>): ProblemExperience =>
      ({ problemId, successes, failures, attempts: successes.length + failures.length, solved: successes.length })
    const ins = (problemId: string, strategies: Array<Insight>, lessons: Array<Insight>): ProblemInsights => ({ problemId, strategies, lessons })
    const state: MemoryState = {
      // a: success [10 11 5], failure [10 12 5]: the separating token is 11
      experience: new Map([["a", exp("a", [item("r1", [10, 11, 5], true)], [item("r2", [10, 12, 5], false)])], ["c", exp("c", [item("r3", [20, 21], true)], [])]]),
      insights: new Map([
        // a: one strategy names 11 and the skill, one names neither; one lesson avoids a's own skill
        ["a", ins("a", [insight("s1", "a", "strategy", [10, 11]), insight("s2", "a", "strategy", [5])], [insight("l1", "a", "lesson", [9, 10, 11])])],
        // c: no failure stored, so its strategy is not judged for separators; it names c's skill
        ["c", ins("c", [insight("s3", "c", "strategy", [20, 21, 4])], [])]
      ]),
      bank: {
        behaviors: [
          behavior("b1", "skill", [10, 11], ["a", "b", "c"]), // majority cluster 0: names its skill
          behavior("b2", "skill", [20, 4], ["c"]), // cluster 1: does not
          behavior("b3", "avoid", [7, 20, 21], ["c"]), // avoids cluster 1's own skill: harmful where it is retrieved
          behavior("b4", "avoid", [20, 21], ["a", "b"]) // another cluster's skill, not its own
        ],
        retired: []
      }
    }
    expect(reflectorQuality(state, (id) => truth.get(id))).toEqual({
      strategies: 3, strategyNamesSeparator: 1 / 2, strategyNamesSkill: 2 / 3,
      lessons: 1, lessonAvoidsOwnSkill: 1,
      skillBehaviors: 2, skillBehaviorNamesClusterSkill: 1 / 2,
      avoidBehaviors: 2, avoidBehaviorNamesClusterSkill: 1 / 2
    })
  })

  it("reports null where there is nothing to judge", () => {
    const empty: MemoryState = { experience: new Map(), insights: new Map(), bank: { behaviors: [], retired: [] } }
    const q = reflectorQuality(empty, () => undefined)
    expect(q).toEqual({
      strategies: 0, strategyNamesSeparator: null, strategyNamesSkill: null, lessons: 0, lessonAvoidsOwnSkill: null,
      skillBehaviors: 0, skillBehaviorNamesClusterSkill: null, avoidBehaviors: 0, avoidBehaviorNamesClusterSkill: null
    })
  })

  it("containsRun finds contiguous runs only", () => {
    expect(containsRun([1, 2, 3], [2, 3])).toBe(true)
    expect(containsRun([1, 2, 3], [1, 3])).toBe(false)
    expect(containsRun([1], [])).toBe(false)
  })
})

describe("avoid contradiction (memory.avoidContradiction)", () => {
  it("majority keeps an avoid pattern that some strategy uses but more lessons name; any-strategy drops it", async () => {
    const { contradicted } = await import("../../src/memory/behavior/abstract.ts")
    const ev = { strategy: new Map([["1,2", new Set(["p"])]]), lesson: new Map([["1,2", new Set(["q", "r", "s"])]]) }
    expect(contradicted("avoid", [1, 2], ev)).toBe(false)
    expect(contradicted("avoid", [1, 2], ev, "any-strategy")).toBe(true)
    expect(contradicted("avoid", [3, 4], ev, "any-strategy")).toBe(false)
    // skills are judged by the majority rule either way
    expect(contradicted("skill", [1, 2], ev, "any-strategy")).toBe(true)
  })
})
