/**
 * Per-step reflector / consolidator quality (src/memory/stepQuality.ts), the contrast it rests on
 * (src/memory/insight/contrast.ts) and the `memory.sharpen` options (reflect.ts lessons "contrast",
 * abstract.ts kinds "skill"), on hand-built memory whose right answers are worked out in the comments.
 */
import { describe, expect, it } from "vitest"
import { abstractCluster, collectEvidence, defaultAbstractConfig } from "../../src/memory/behavior/abstract.ts"
import type { Behavior } from "../../src/memory/behavior/behavior.ts"
import type { ExperienceItem, ProblemExperience } from "../../src/memory/experience/experience.ts"
import { overlapsAt, repeatsSuccess, separatingRegion } from "../../src/memory/insight/contrast.ts"
import type { Insight, ProblemInsights } from "../../src/memory/insight/insights.ts"
import { defaultReflectConfig, reflect } from "../../src/memory/insight/reflect.ts"
import type { GroundTruth } from "../../src/memory/quality.ts"
import { abstractConfigFor, reflectConfigFor } from "../../src/memory/sharpen.ts"
import type { MemoryState } from "../../src/memory/state.ts"
import { stepQuality } from "../../src/memory/stepQuality.ts"

const EOS = 2
// ops as plain token ids: a problem of cluster 0 is solved by DBL SQ TAKE 1 (skill DBL SQ)
const [DBL, SQ, TAKE, ONE, COMP, ROTR, SWAP, ADD, FOUR] = [35, 36, 43, 17, 37, 38, 39, 45, 20]

const item = (id: string, response: Array<number>, success: boolean): ExperienceItem =>
  ({ id, response: [...response, EOS], feedback: success ? [] : [9, 99, 10], success, prov: { rolloutId: id, policyVersion: 0, step: 1, reward: success ? 1 : 0 } })
const exp = (problemId: string, successes: Array<ExperienceItem>, failures: Array<ExperienceItem>): ProblemExperience =>
  ({ problemId, successes, failures, attempts: successes.length + failures.length, solved: successes.length })
const insight = (id: string, problemId: string, kind: "strategy" | "lesson", tokens: Array<number>): Insight =>
  ({ id, problemId, kind, tokens, feedback: [], contrastive: true, confidence: 0.5, support: 1, sources: { rolloutIds: [], policyVersion: 0, step: 1 } })
const behavior = (id: string, kind: "skill" | "avoid", tokens: Array<number>, problemIds: Array<string>): Behavior =>
  ({ id, kind, tokens, problemIds, support: problemIds.length, hits: 0, successes: 0, sources: { rolloutIds: [], policyVersion: 0, step: 1 }, key: new Float32Array(2), cluster: "k" })
const empty: MemoryState = { experience: new Map(), insights: new Map(), bank: { behaviors: [], retired: [] } }

describe("separatingRegion", () => {
  const s = [item("s1", [DBL, SQ, TAKE, ONE], true)]
  it("an inserted op: empty on the success side, the op on the failure side", () => {
    expect(separatingRegion(s, [COMP, DBL, SQ, TAKE, ONE, EOS])).toMatchObject({ d: 0, sEnd: 0, fEnd: 1 })
  })
  it("a substituted skill: both sides, the common suffix cut", () => {
    expect(separatingRegion(s, [ROTR, SWAP, TAKE, ONE, EOS])).toMatchObject({ d: 0, sEnd: 2, fEnd: 2 })
  })
  it("a wrong constant, aligned with the success sharing the longest prefix (ties: smallest id)", () => {
    const two = [item("s2", [ROTR, SWAP, TAKE, ONE], true), ...s]
    expect(separatingRegion(two, [DBL, SQ, TAKE, FOUR, EOS])).toMatchObject({ success: [DBL, SQ, TAKE, ONE], d: 3, sEnd: 4, fEnd: 4 })
    expect(separatingRegion([], [DBL, EOS])).toBeUndefined()
  })
  it("overlapsAt and repeatsSuccess", () => {
    expect(overlapsAt([DBL, SQ, TAKE, ONE], [SQ, TAKE], 0, 2)).toBe(true)
    expect(overlapsAt([DBL, SQ, TAKE, ONE], [TAKE, ONE], 0, 2)).toBe(false)
    expect(repeatsSuccess([COMP, DBL, SQ], s)).toBe(true) // the bigram DBL SQ is the success's
    expect(repeatsSuccess([COMP, DBL], s)).toBe(false)
    expect(repeatsSuccess([FOUR], s)).toBe(false)
    expect(repeatsSuccess([ONE], s)).toBe(true)
  })
})

describe("stepQuality", () => {
  const truth = new Map<string, GroundTruth>([
    ["a", { cluster: 0, skill: [DBL, SQ] }], ["b", { cluster: 0, skill: [DBL, SQ] }], ["c", { cluster: 1, skill: [ROTR, SWAP] }]
  ])
  const experience = new Map([
    // a: success DBL SQ TAKE 1; failures ROTR SWAP TAKE 1 (region: DBL SQ) and COMP DBL SQ TAKE 1 (success side empty)
    ["a", exp("a", [item("s1", [DBL, SQ, TAKE, ONE], true)], [item("f1", [ROTR, SWAP, TAKE, ONE], false), item("f2", [COMP, DBL, SQ, TAKE, ONE], false)])],
    // c: failures only
    ["c", exp("c", [], [item("f3", [DBL, SQ, ADD, FOUR], false)])]
  ])
  const old = insight("old", "a", "strategy", [TAKE, ONE])
  const before: MemoryState = { ...empty, experience, insights: new Map([["a", { problemId: "a", strategies: [old], lessons: [] }]]) }
  const ins = (problemId: string, strategies: Array<Insight>, lessons: Array<Insight>): ProblemInsights => ({ problemId, strategies, lessons })
  const after: MemoryState = {
    experience,
    insights: new Map([
      ["a", ins("a", [
        old, // held before the step: not judged again (it would be a miss: TAKE 1 is after the region)
        insight("s-hit", "a", "strategy", [SQ, TAKE]), // overlaps DBL SQ in the success, names the skill? no (SQ TAKE)
        insight("s-skill", "a", "strategy", [DBL, SQ, TAKE]) // overlaps and names the skill
      ], [
        insight("l-bad", "a", "lesson", [COMP, DBL, SQ]), // repeats the success's DBL SQ and avoids a's own skill
        insight("l-good", "a", "lesson", [ROTR, SWAP]) // only the failure's own ops
      ])],
      ["c", ins("c", [], [insight("l-c", "c", "lesson", [DBL, SQ, ADD])])] // no success: not judged for separation; not c's skill
    ]),
    bank: { behaviors: [], retired: [] }
  }

  it("judges only the step's new insights against the experience the reflector read", () => {
    const q = stepQuality(before, after, truth)
    expect(q).toMatchObject({
      "quality.reflected": 2, "quality.strategies": 2, "quality.lessons": 3,
      "quality.strategySeparates": 1, "quality.strategySeparates.n": 2,
      "quality.strategyNamesSkill": 1 / 2, "quality.strategyNamesSkill.n": 2,
      "quality.lessonSeparates": 1 / 2, "quality.lessonSeparates.n": 2,
      "quality.lessonAvoidsSkill": 1 / 3, "quality.lessonAvoidsSkill.n": 3,
      "quality.consolidated": 0
    })
    expect(q["quality.skillBehaviors"]).toBeUndefined()
  })

  it("a strategy away from every separating region is a miss", () => {
    const miss = { ...after, insights: new Map([["a", ins("a", [insight("s-miss", "a", "strategy", [TAKE, ONE])], [])]]) }
    expect(stepQuality(empty, miss, truth)).toMatchObject({ "quality.strategySeparates": 0, "quality.strategySeparates.n": 1, "quality.strategyNamesSkill": 0 })
  })

  it("judges the bank a consolidation left: skills naming their cluster's, avoid items naming any skill, purity", () => {
    const bank = [
      behavior("b1", "skill", [DBL, SQ], ["a", "b", "c"]), // majority cluster 0: names its skill; purity 2/3
      behavior("b2", "skill", [TAKE, ONE], ["a"]), // does not
      behavior("b3", "avoid", [ROTR, SWAP, TAKE], ["a", "b"]), // cluster 0 avoids cluster 1's skill: any yes, own no
      behavior("b4", "avoid", [COMP, ADD], ["c"]) // names no skill
    ]
    const q = stepQuality(empty, { ...empty, bank: { behaviors: bank, retired: [] } }, truth)
    expect(q).toMatchObject({
      "quality.consolidated": 1, "quality.skillBehaviors": 2, "quality.avoidBehaviors": 2,
      "quality.skillBehaviorNamesSkill": 1 / 2, "quality.avoidBehaviorNamesOwnSkill": 0, "quality.avoidBehaviorNamesAnySkill": 1 / 2
    })
    expect(q["quality.behaviorPurity"]).toBeCloseTo((2 / 3 + 1 + 1 + 1) / 4, 12)
    // usage bookkeeping changes counters, not ids: no consolidation to report
    const used = { ...empty, bank: { behaviors: bank.map((b) => ({ ...b, hits: 1 })), retired: [] } }
    expect(stepQuality({ ...empty, bank: { behaviors: bank, retired: [] } }, used, truth)["quality.consolidated"]).toBe(0)
  })

  it("reports counts of 0 and null fractions on an empty step", () => {
    expect(stepQuality(empty, empty, truth)).toEqual({
      "quality.reflected": 0, "quality.strategies": 0, "quality.lessons": 0,
      "quality.strategySeparates": null, "quality.strategySeparates.n": 0, "quality.strategyNamesSkill": null, "quality.strategyNamesSkill.n": 0,
      "quality.lessonSeparates": null, "quality.lessonSeparates.n": 0, "quality.lessonAvoidsSkill": null, "quality.lessonAvoidsSkill.n": 0,
      "quality.consolidated": 0
    })
  })
})

describe("memory.sharpen", () => {
  const ctx = { step: 1, policyVersion: 0 }
  const lessonsOf = (e: ProblemExperience, lessons: "window" | "contrast") =>
    reflect(e, ctx, { ...defaultReflectConfig, lessons }).filter((c) => c.kind === "lesson").map((c) => c.tokens)

  it("contrast lessons are the failure's own separating ops, never part of a success", () => {
    const e = exp("a", [item("s1", [DBL, SQ, TAKE, ONE], true)], [item("f1", [COMP, DBL, SQ, TAKE, ONE], false), item("f2", [DBL, SQ, TAKE, FOUR], false)])
    // the fixed window carries the success's own skill into the lesson; the contrast does not
    expect(lessonsOf(e, "window")).toEqual([[COMP, DBL, SQ], [FOUR]])
    expect(lessonsOf(e, "contrast")).toEqual([[COMP], [FOUR]])
  })

  it("contrast lessons need a success; a deletion (no op of the failure's own) gives none", () => {
    const failuresOnly = exp("c", [], [item("f1", [DBL, SQ, ADD, FOUR], false), item("f2", [DBL, SQ, TAKE, ONE], false)])
    expect(lessonsOf(failuresOnly, "window").length).toBeGreaterThan(0)
    expect(lessonsOf(failuresOnly, "contrast")).toEqual([])
    const deletion = exp("a", [item("s1", [DBL, SQ, TAKE, ONE], true)], [item("f1", [DBL, TAKE, ONE], false)])
    expect(lessonsOf(deletion, "contrast")).toEqual([])
    // a doubled SQ: the failure's own op is SQ, which the success uses too; "[AVOID] sq" would name the skill
    const doubled = exp("a", [item("s1", [DBL, SQ, TAKE, ONE], true)], [item("f1", [DBL, SQ, SQ, TAKE, ONE], false)])
    expect(lessonsOf(doubled, "contrast")).toEqual([])
  })

  it("kinds 'skill' proposes no avoid behaviors", () => {
    const members: Array<ProblemInsights> = ["a", "b"].map((p) => ({
      problemId: p, strategies: [insight(`s${p}`, p, "strategy", [DBL, SQ])], lessons: [insight(`l${p}`, p, "lesson", [ROTR, SWAP])]
    }))
    const ev = collectEvidence(members, defaultAbstractConfig)
    const kinds = (cfg: typeof defaultAbstractConfig) => abstractCluster("k", members, ev, cfg).map((c) => c.kind)
    expect(kinds(defaultAbstractConfig)).toEqual(["skill", "avoid"])
    expect(kinds(abstractConfigFor(defaultAbstractConfig, "all"))).toEqual(["skill"])
  })

  it("absent or 'off' gives back the defaults themselves (default runs unchanged)", () => {
    expect(reflectConfigFor(undefined)).toBe(defaultReflectConfig)
    expect(reflectConfigFor("off")).toBe(defaultReflectConfig)
    expect(abstractConfigFor(defaultAbstractConfig, undefined)).toBe(defaultAbstractConfig)
    expect(abstractConfigFor(defaultAbstractConfig, "reflector")).toBe(defaultAbstractConfig)
    expect(reflectConfigFor("reflector").lessons).toBe("contrast")
    expect(reflectConfigFor("no-lessons").lessons).toBe("none")
    const e = exp("a", [item("s1", [DBL, SQ, TAKE, ONE], true)], [item("f1", [ROTR, SWAP, TAKE, ONE], false)])
    const kinds = reflect(e, ctx, reflectConfigFor("no-lessons")).map((c) => c.kind)
    expect(kinds).toContain("strategy")
    expect(kinds).not.toContain("lesson")
  })
})
