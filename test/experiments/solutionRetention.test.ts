/**
 * The pure parts of the solution-retention measurement (findings §17): which solution a checkpoint knows,
 * what a window's visits were, and the difference in differences against the unvisited problems' drift.
 */
import { describe, expect, it } from "vitest"
import type { RolloutsRecord } from "../../src/experiments/memoryReplay/rolloutsFile.ts"
import { contrastEffects, failuresAt, solutionsAt, summarize, visitsIn, windowEffects } from "../../src/experiments/solutionRetention.ts"
import type { LineageRecord } from "../../src/report/lineageFile.ts"

const attempt = (response: Array<number>, success: boolean, step: number) =>
  ({ response, feedback: [], success, prov: { rolloutId: `s${step}/r`, policyVersion: step, step, reward: success ? 1 : 0 } })
const remember = (step: number, groups: Array<[string, Array<[Array<number>, boolean]>]>): RolloutsRecord => ({
  step,
  call: {
    _tag: "Remember",
    request: {
      groups: groups.map(([problemId, as]) => ({ problemId, attempts: as.map(([r, s]) => attempt(r, s, step - 1)) })),
      step: step - 1, policyVersion: step - 1, fresh: false, consolidate: false, outcomes: []
    }
  }
})
const lineageStep = (step: number, rollouts: Array<[string, boolean]>): LineageRecord => ({
  step, read: null, items: [], created: [],
  contexts: rollouts.map(([p, solved], k) => [`s${step}/${p}/r${k}`, p, solved ? 1 : 0, solved ? 1 : 0, step - 1, null, []] as const)
})

describe("solution retention", () => {
  it("knows each problem's newest success up to the checkpoint, and nothing recorded after it", () => {
    const records = [
      remember(1, [["a", [[[1, 2], false], [[3, 4], true], [[5, 6], true]]], ["b", [[[7], false]]]]),
      remember(2, [["a", [[[9, 9], true]]], ["b", [[[8], true]]]]),
      { step: 3, call: null },
      remember(4, [["c", [[[5], true]]]])
    ]
    expect([...solutionsAt(records, 1)]).toEqual([["a", [3, 4]]])
    expect([...solutionsAt(records, 3)].sort()).toEqual([["a", [9, 9]], ["b", [8]]])
    expect(solutionsAt(records, 4).get("c")).toEqual([5])
  })

  it("knows each problem's newest failed attempt with a response up to the checkpoint", () => {
    const records = [
      remember(1, [["a", [[[1], false], [[2], false]]], ["b", [[[], false], [[3], true]]]]),
      remember(2, [["a", [[[4], true], [[5], false]]]])
    ]
    expect([...failuresAt(records, 1)]).toEqual([["a", [1]]])
    expect([...failuresAt(records, 2)]).toEqual([["a", [5]]])
  })

  it("contrasts S with F: a change that lifts both alike cancels, a pull toward S does not", () => {
    const solution = { before: new Map([["f", -5], ["s", -1], ["t", -2]]), after: new Map([["f", -4], ["s", -0.5], ["t", -1]]) }
    const failure = { before: new Map([["f", -6], ["s", -2], ["t", -3]]), after: new Map([["f", -5], ["s", -2], ["t", -3]]) }
    const visits = new Map([["f", "all-fail" as const], ["s", "success" as const], ["t", "twice" as const]])
    expect(contrastEffects({ solution, failure, visits })).toEqual([["all-fail S−F", 0], ["success S−F", 0.5]])
  })

  it("names each visit in (a, b] by its outcome, and a problem seen twice as such", () => {
    const lineage = [
      lineageStep(1, [["a", false], ["a", false], ["b", false], ["b", true]]),
      lineageStep(2, [["c", false], ["a", true]]),
      lineageStep(3, [["d", true]])
    ]
    expect(Object.fromEntries(visitsIn(lineage, 0, 1))).toEqual({ a: "all-fail", b: "success" })
    expect(Object.fromEntries(visitsIn(lineage, 0, 2))).toEqual({ a: "twice", b: "success", c: "all-fail" })
    expect(Object.fromEntries(visitsIn(lineage, 2, 3))).toEqual({ d: "success" })
  })

  it("records each problem's change under its visit's kind and starting band, in nats and in probability", () => {
    const ln = Math.log
    const before = new Map([["u", ln(0.5)], ["f", ln(0.01)], ["s", ln(0.4)], ["t", ln(0.1)]])
    const after = new Map([["u", ln(0.25)], ["f", ln(0.02)], ["s", ln(0.4)], ["t", ln(0.9)]])
    const visits = new Map([["f", "all-fail" as const], ["s", "success" as const], ["t", "twice" as const]])
    const got = windowEffects({ before, after, visits })
    const at = (k: string) => got.filter(([key]) => key === k).map(([, v]) => Number(v.toFixed(9)))
    expect(at("none")).toEqual([Number((-ln(2)).toFixed(9))])
    expect(at("none, π(S) >= 0.3 Δp")).toEqual([-0.25])
    expect(at("all-fail")).toEqual([Number(ln(2).toFixed(9))])
    expect(at("all-fail, π(S) < 0.05 Δp")).toEqual([0.01])
    expect(at("success")).toEqual([0])
    expect(at("success, π(S) >= 0.3")).toEqual([0])
    // a problem seen twice in the window belongs to no kind
    expect(got).toHaveLength(12)
  })

  it("summarizes observations by kind, with counts", () => {
    expect(summarize([["x", 1], ["y", 2], ["x", 2]])).toEqual({ x: { n: 2, mean: 1.5 }, y: { n: 1, mean: 2 } })
  })
})
