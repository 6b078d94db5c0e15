/**
 * Teacher contexts: what each rollout's context rests on (kind), the `teacherNeedsSolution` and
 * `teachSolvedGroups` masks, and the diagnostics computed from teacher log-probs (lift, entropy). Pure: no tfjs.
 */
import { describe, expect, it } from "vitest"
import { type ContextOptions, type TeachItem, teacherContexts } from "../../../actors/teacher/contexts.ts"
import { figuresOf, teacherDiagnostics } from "../../../actors/orchestrator/diagnostics.ts"
import { Control } from "../../../src/domains/control.ts"
import type { MemoryView } from "../../../src/memory/retrieval/compose.ts"

const prompt = [Control.PROB, 40, 41, 42, Control.ANS]
const fb = [Control.FB, 50, 51, Control.END]
const item = (problemId: string, index: number, reward: number, response: Array<number>): TeachItem => ({
  rolloutId: `${problemId}/r${index}`, problemId, index, prompt, response, reward, feedback: reward >= 1 ? [] : fb
})
const prov = (step: number, reward: number) => ({ rolloutId: `x${step}`, policyVersion: 0, step, reward })
// p1: one success among failures; p2: no success, nothing stored; p3: no success, a stored success;
// p4: no success, only a stored failure
const items = [
  item("p1", 0, 1, [60, Control.EOS]), item("p1", 1, 0, [61, Control.EOS]),
  item("p2", 0, 0, [62, Control.EOS]),
  item("p3", 0, 0, [63, Control.EOS]),
  item("p4", 0, 0, [64, Control.EOS])
]
const views: Record<string, MemoryView> = {
  p3: { experience: { problemId: "p3", successes: [{ id: "s", response: [65, Control.EOS], feedback: [], success: true, prov: prov(1, 1) }], failures: [], attempts: 1, solved: 1 } },
  p4: { experience: { problemId: "p4", successes: [], failures: [{ id: "f", response: [66, Control.EOS], feedback: fb, success: false, prov: prov(1, 0) }], attempts: 1, solved: 0 } }
}
const viewOf = (id: string): MemoryView => views[id] ?? {}
const opts = (o: Partial<ContextOptions> = {}): ContextOptions => ({
  levels: "E", budget: 112, successThreshold: 1, includeFeedback: true, dontRepromptOnSelfSuccess: true, ...o
})

describe("teacher contexts", () => {
  it("classify each context by what it rests on", () => {
    const kinds = teacherContexts(items, viewOf, opts()).map((c) => c.kind)
    // p1's success has no other successful sibling and nothing stored: no context
    expect(kinds).toEqual(["none", "sibling", "feedback", "stored", "feedback"])
    const sdpo = teacherContexts(items, viewOf, opts({ levels: "none", includeFeedback: false })).map((c) => c.kind)
    expect(sdpo).toEqual(["none", "sibling", "none", "none", "none"])
    // without its own feedback, PMD's p4 still gets a stored failure's feedback
    expect(teacherContexts(items, viewOf, opts({ includeFeedback: false }))[4]!.kind).toBe("memory")
  })

  it("teacherNeedsSolution masks every context that shows no solution, and changes nothing else", () => {
    const base = teacherContexts(items, viewOf, opts())
    const masked = teacherContexts(items, viewOf, opts({ teacherNeedsSolution: true }))
    expect(masked.map((c) => c.context === null)).toEqual([true, false, true, false, true])
    masked.forEach((c, i) => { if (c.context !== null) expect(c.context).toEqual(base[i]!.context) })
    expect(teacherContexts(items, viewOf, opts({ teacherNeedsSolution: false }))).toEqual(base)
  })
})

describe("teachSolvedGroups: false", () => {
  it("masks every rollout of a group with a success, keeps the unsolved groups' contexts as they were", () => {
    const base = teacherContexts(items, viewOf, opts({ teacherNeedsSolution: true }))
    const kept = teacherContexts(items, viewOf, opts({ teacherNeedsSolution: true, teachSolvedGroups: false }))
    // p1 solved: its sibling teacher is gone; p3's stored solution still teaches
    expect(kept.map((c) => c.kind)).toEqual(["none", "none", "none", "stored", "none"])
    expect(kept[3]).toEqual(base[3])
    expect(teacherContexts(items, viewOf, opts({ teachSolvedGroups: true }))).toEqual(teacherContexts(items, viewOf, opts()))
  })

  it("applies to any number of successes in the group, also with every rollout solved", () => {
    const solved = [item("q", 0, 1, [60, Control.EOS]), item("q", 1, 1, [61, Control.EOS]), item("q", 2, 0, [62, Control.EOS])]
    expect(teacherContexts(solved, viewOf, opts()).map((c) => c.kind)).toEqual(["sibling", "sibling", "sibling"])
    expect(teacherContexts(solved, viewOf, opts({ teachSolvedGroups: false })).every((c) => c.context === null && c.refs.length === 0)).toBe(true)
  })
})

describe("teacher diagnostics", () => {
  it("lift, teacher entropy and student NLL per token; fractions per kind", () => {
    const V = 3
    const lp = (ps: Array<number>) => ps.map(Math.log)
    const teacherLogp = Float32Array.from([...lp([0.25, 0.5, 0.25]), ...lp([0.25, 0.25, 0.5])])
    const r = { kind: "feedback" as const, success: false, response: [0, 1], sampleLogp: [Math.log(0.5), Math.log(0.5)], teacherLogp }
    const f = figuresOf(r)!
    expect(f.lift).toBeCloseTo(Math.log(0.25) - Math.log(0.5), 5)
    expect(f.teacherEntropy).toBeCloseTo(-(0.5 * Math.log(0.25) + 0.5 * Math.log(0.5)), 5)
    expect(f.studentNll).toBeCloseTo(Math.log(2), 5)
    // unnormalised teacher scores (interpolated teachers) are re-normalised first
    expect(figuresOf({ ...r, teacherLogp: teacherLogp.map((x) => x + 3) })!.lift).toBeCloseTo(f.lift, 5)
    const d = teacherDiagnostics([r, { ...r, kind: "none", teacherLogp: null, response: [0, 1, 2, 0] }])
    expect(d["ctx.feedback"]).toBe(0.5)
    expect(d["ctx.none"]).toBe(0.5)
    expect(d["distillShare.feedback"]).toBe(1)
    expect(d["liftPass.feedback"]).toBeNull()
    expect(V).toBe(teacherLogp.length / r.response.length)
  })
})
