/**
 * Recall (`memory.recall`): which problems a step recalls (solved before, not in the batch, drawn without
 * replacement from a stream of the seed and step), the row each gives (its best stored success under a
 * memory-free prompt), the update's extra term (weight x the next-token loss, after the rehearsal's), and
 * the knob in a run: absent and 0 the same run, > 0 another whose train rows count the recalled sequences.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { recallPicks, recallRows } from "../../actors/orchestrator/recall.ts"
import { rehearsalLoss } from "../../actors/policy/loss.ts"
import { tinyConfig } from "../../src/config/presets.ts"
import type { RunConfig } from "../../src/config/RunConfig.ts"
import { Control } from "../../src/domains/control.ts"
import { digitToken } from "../../src/domains/vocab.ts"
import type { ExperienceItem } from "../../src/memory/experience/experience.ts"
import { lossGrads } from "../../src/numeric/index.ts"
import type { UpdateRow } from "../../src/protocol/policy.ts"
import { scopedPolicies } from "./policy/scopedPolicies.ts"
import { checkSequenceKnobInRun } from "./sequenceKnob.ts"

const cfg: RunConfig = { ...tinyConfig, base: "scratch", memory: { ...tinyConfig.memory, levels: "E" } }
const prompt = (i: number) => [Control.PROB, digitToken(i % 10), Control.ANS]
const success = (id: string, response: Array<number>, reward: number, step: number): ExperienceItem => ({
  id, response, feedback: [], success: true, prov: { rolloutId: id, policyVersion: step, step, reward }
} as unknown as ExperienceItem)
const policy = scopedPolicies()

describe("which problems a step recalls", () => {
  it("distinct problems solved before, none of the batch, at most n, the same for the same seed and step", () => {
    fc.assert(fc.property(
      fc.uniqueArray(fc.integer({ min: 0, max: 60 }), { maxLength: 40 }), fc.uniqueArray(fc.integer({ min: 0, max: 60 }), { maxLength: 8 }),
      fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 1000 }),
      (solved, batchIdx, n, step) => {
        const everSolved = solved.map((i) => `p${i}`)
        const batch = batchIdx.map((i) => `p${i}`)
        const picks = recallPicks(7, step, everSolved, batch, n)
        const eligible = everSolved.filter((id) => !batch.includes(id))
        expect(new Set(picks).size).toBe(picks.length)
        expect(picks.length).toBe(Math.min(n, eligible.length))
        for (const id of picks) expect(eligible).toContain(id)
        // the order of everSolved does not matter, only its content
        expect(recallPicks(7, step, [...everSolved].reverse(), batch, n)).toEqual(picks)
      }
    ))
  })

  it("draws other problems at other steps and seeds", () => {
    const everSolved = Array.from({ length: 50 }, (_, i) => `p${i}`)
    const a = recallPicks(7, 3, everSolved, [], 8)
    expect(recallPicks(7, 4, everSolved, [], 8)).not.toEqual(a)
    expect(recallPicks(8, 3, everSolved, [], 8)).not.toEqual(a)
  })
})

describe("recall rows", () => {
  it("one row per problem with a stored success: its best one (reward, then newest) under the prompt given", () => {
    const rows = recallRows([
      { prompt: prompt(1), successes: [success("a", [digitToken(1), Control.EOS], 1, 2), success("b", [digitToken(2), Control.EOS], 1, 5)] },
      { prompt: prompt(2), successes: [] },
      { prompt: prompt(3), successes: [success("c", [digitToken(3), Control.EOS], 1, 1)] }
    ])
    expect(rows).toEqual([
      { prompt: prompt(1), response: [digitToken(2), Control.EOS] },
      { prompt: prompt(3), response: [digitToken(3), Control.EOS] }
    ])
  })
})

describe("recall in the update", () => {
  const rows: Array<UpdateRow> = [0, 1, 2, 3].map((i) => ({
    prompt: prompt(i), response: [digitToken(i), Control.EOS], oldLogp: [-2, -2], reward: i % 2, group: 0, teacherLogp: null
  }))
  const rehearsal = { rows: [{ prompt: prompt(5), response: [digitToken(5), Control.EOS] }], weight: 0.3 }
  const recall = { rows: [{ prompt: prompt(8), response: [digitToken(8), Control.EOS] }], weight: 0.5 }

  it("adds exactly weight x the next-token loss of the recalled sequences, after the rehearsal's", () => {
    const model = policy(cfg)
    const plan = model.planUpdate(rows, "grpo", false, rehearsal, recall)
    expect(plan.sequences.map((s) => s.weight)).toEqual([0.3, 0.5])
    const nll = (i: number) => lossGrads(model.studentSource().params(), () => rehearsalLoss(model.studentSource().params(), model.model, cfg, plan.sequences[i]!)).loss
    const [r, c] = [nll(0), nll(1)]
    const plain = policy(cfg).update(rows, "grpo", false)
    expect(model.update(rows, "grpo", false, rehearsal, recall).loss).toBeCloseTo(plain.loss + r + c, 5)
  })

  it("weight 0 or no rows is no recall: the same bits as without; with rows, other weights", () => {
    const a = policy(cfg)
    a.update(rows, "grpo", false, rehearsal)
    const b = policy(cfg)
    b.update(rows, "grpo", false, rehearsal, { ...recall, weight: 0 })
    const c = policy(cfg)
    c.update(rows, "grpo", false, rehearsal, { rows: [], weight: 0.5 })
    expect(b.hash()).toBe(a.hash())
    expect(c.hash()).toBe(a.hash())
    const d = policy(cfg)
    d.update(rows, "grpo", false, rehearsal, recall)
    expect(d.hash()).not.toBe(a.hash())
  })

  it("micro-batches: the recall is one more gradient part, the update the same up to rounding", () => {
    const micro = policy({ ...cfg, optim: { ...cfg.optim, microBatches: 2 } }).update(rows, "grpo", false, undefined, recall)
    const whole = policy(cfg).update(rows, "grpo", false, undefined, recall)
    expect(micro.loss).toBeCloseTo(whole.loss, 5)
    expect(micro.gradNorm).toBeCloseTo(whole.gradNorm, 4)
  })
})

describe("the knob in a run", () => {
  it("absent and 0 give the same run; 8 another, whose train rows count the recalled sequences; a bad value exits 2", () => {
    checkSequenceKnobInRun("memory.recall", { zero: "0", on: "8", bad: "1.5" }, "recallRows")
  }, 180_000)
})
