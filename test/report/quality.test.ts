/** The report's reflector / consolidator quality section (src/report/qualitySection.ts), on hand-built train rows. */
import { describe, expect, it } from "vitest"
import type { RunData, TrainRow } from "../../src/protocol/metrics.ts"
import { qualitySection, runQuality } from "../../src/report/qualitySection.ts"

const train = (step: number, diagnostics?: Record<string, number | null>): TrainRow => ({
  kind: "train", step, rewardMean: 0, loss: 0, gradNorm: 0, entropy: 0, teacherFraction: 1, everSolved: 0,
  memoryVersionRead: 0, memoryVersionNewest: 0, memoryLag: 0, memoryLagClamped: false, rolloutPolicyVersion: 0, rolloutLag: 0,
  memorySizes: { experience: 0, insights: 0, behaviors: 0 }, rolloutsPerSec: 1, tokensPerSec: 1, stageMs: {},
  ...(diagnostics === undefined ? {} : { diagnostics })
})
const run = (name: string, rows: Array<TrainRow>): RunData => ({ name, method: "pmd", seed: 1, knobs: { "memory.levels": "EIB" }, rows })

const reflection = (strategies: number, sep: number | null, sepN: number, lessons: number, lsep: number | null, lsepN: number) => ({
  "quality.reflected": 1, "quality.strategies": strategies, "quality.lessons": lessons,
  "quality.strategySeparates": sep, "quality.strategySeparates.n": sepN, "quality.strategyNamesSkill": null, "quality.strategyNamesSkill.n": 0,
  "quality.lessonSeparates": lsep, "quality.lessonSeparates.n": lsepN, "quality.lessonAvoidsSkill": 0, "quality.lessonAvoidsSkill.n": lessons
})

describe("runQuality", () => {
  it("pools reflection fractions by their denominators and averages consolidations", () => {
    const q = runQuality(run("r", [
      // step 1: 1 of 1 strategy separates; 1 of 4 lessons repeats no success
      train(1, { ...reflection(1, 1, 1, 4, 0.25, 4), "quality.consolidated": 0 }),
      // step 2: 0 of 3 strategies; nothing judged for lessons; a consolidation
      train(2, {
        ...reflection(3, 0, 3, 0, null, 0), "quality.consolidated": 1, "quality.skillBehaviors": 4, "quality.avoidBehaviors": 6,
        "quality.skillBehaviorNamesSkill": 0.5, "quality.avoidBehaviorNamesAnySkill": 0.5, "quality.behaviorPurity": 0.8
      }),
      train(3, {
        ...reflection(0, null, 0, 0, null, 0), "quality.consolidated": 1, "quality.skillBehaviors": 6, "quality.avoidBehaviors": 2,
        "quality.skillBehaviorNamesSkill": 1, "quality.avoidBehaviorNamesAnySkill": null, "quality.behaviorPurity": 0.6
      })
    ]))!
    // pooled 1 / 4, not the mean of the steps' fractions (1 and 0: 0.5)
    expect(q.reflection.strategySeparates).toBe(1 / 4)
    expect(q.reflection.lessonSeparates).toBe(1 / 4)
    expect(q.reflection.strategyNamesSkill).toBeNull()
    expect(q.strategiesPerStep).toBeCloseTo(4 / 3, 12)
    expect(q.consolidations).toBe(2)
    expect(q.skillBehaviors).toBe(5)
    expect(q.bank.skillBehaviorNamesSkill).toBe(0.75)
    expect(q.bank.avoidBehaviorNamesAnySkill).toBe(0.5) // a null consolidation is left out of the mean
    expect(q.bank.behaviorPurity).toBeCloseTo(0.7, 12)
  })

  it("leaves out runs without quality figures, and the section with them", () => {
    const teacherOnly = run("t", [train(1, { "ctx.sibling": 0.5 }), train(2)])
    expect(runQuality(teacherOnly)).toBeUndefined()
    expect(qualitySection([teacherOnly])).toBe("")
    const html = qualitySection([teacherOnly, run("q", [train(1, { ...reflection(2, 0.5, 2, 0, null, 0), "quality.consolidated": 0 })])])
    expect(html).toContain('<section id="quality">')
    expect(html).toContain("<td>q</td><td>pmd memory.levels=EIB</td><td>2.0</td><td>50%</td>")
    expect(html).not.toContain("<td>t</td>")
  })
})
