/**
 * Rehearsal (`memory.rehearsal`): rows only for solved problems whose memory view renders a block, each the
 * memory-augmented prompt (the one the memory-augmented evaluation samples) with a solving response; the
 * next-token loss is the token-mean NLL of the response; the update's loss gains exactly weight x that
 * loss, and weight 0 is no rehearsal. And a tiny run: absent and 0 give the same run, > 0 another.
 */
import { describe, expect, it } from "vitest"
import { memoryPrompt } from "../../actors/orchestrator/memoryPrompt.ts"
import { rehearsalRows } from "../../actors/orchestrator/rehearsal.ts"
import { rehearsalLoss } from "../../actors/policy/loss.ts"
import { tinyConfig } from "../../src/config/presets.ts"
import type { RunConfig } from "../../src/config/RunConfig.ts"
import { Control } from "../../src/domains/control.ts"
import { digitToken } from "../../src/domains/vocab.ts"
import type { ExperienceItem } from "../../src/memory/experience/experience.ts"
import type { MemoryView } from "../../src/memory/retrieval/compose.ts"
import { lossGrads } from "../../src/numeric/index.ts"
import { nextTokenLoss } from "../../src/numeric/losses/index.ts"
import { tf } from "../../src/numeric/tf.ts"
import type { UpdateRow } from "../../src/protocol/policy.ts"
import { scopedPolicies } from "./policy/scopedPolicies.ts"
import { checkSequenceKnobInRun } from "./sequenceKnob.ts"

const cfg: RunConfig = { ...tinyConfig, base: "scratch", memory: { ...tinyConfig.memory, levels: "E" } }
const prompt = (i: number) => [Control.PROB, digitToken(i % 10), Control.ANS]
const stored = (response: Array<number>): ExperienceItem => ({
  id: "s", response, feedback: [], success: true, prov: { rolloutId: "s", policyVersion: 0, step: 0, reward: 1 }
} as unknown as ExperienceItem)
const withSolution: MemoryView = { experience: { successes: [stored([digitToken(7), Control.EOS])], failures: [] } as never }

const policy = scopedPolicies()


describe("rehearsal rows", () => {
  it("one row per solving response, under the memory-augmented prompt; none without a solution or a block", () => {
    const solutions = [[digitToken(7), Control.EOS], [digitToken(7), digitToken(1), Control.EOS]]
    const rows = rehearsalRows(cfg, [
      { prompt: prompt(1), view: withSolution, solutions },
      { prompt: prompt(2), view: withSolution, solutions: [] },
      { prompt: prompt(3), view: {}, solutions }
    ])
    expect(rows).toHaveLength(2)
    const augmented = memoryPrompt(cfg, withSolution, prompt(1)).tokens
    expect(augmented).toContain(Control.SOL)
    expect(rows.map((r) => r.prompt)).toEqual([augmented, augmented])
    expect(rows.map((r) => r.response)).toEqual(solutions)
  })
})

describe("the next-token loss", () => {
  it("is the token-mean negative log-likelihood of the masked targets", () => {
    const logits = tf.tensor3d([[[0, 1, 2], [2, 0, 0]], [[1, 1, 1], [0, 0, 3]]])
    const loss = nextTokenLoss(logits, { targets: Int32Array.from([2, 0, 1, 2]), responseMask: Float32Array.from([1, 1, 0, 1]) })
    const lse = (xs: Array<number>) => Math.log(xs.reduce((a, x) => a + Math.exp(x), 0))
    const want = -((2 - lse([0, 1, 2])) + (2 - lse([2, 0, 0])) + (3 - lse([0, 0, 3]))) / 3
    expect(loss.dataSync()[0]).toBeCloseTo(want, 5)
    expect(() => nextTokenLoss(logits, { targets: Int32Array.from([2, 0, 1, 2]), responseMask: new Float32Array(4) })).toThrow(/selects no token/)
    tf.dispose([logits, loss])
  })
})

describe("rehearsal in the update", () => {
  const rows: Array<UpdateRow> = [0, 1, 2, 3].map((i) => ({
    prompt: prompt(i), response: [digitToken(i), Control.EOS], oldLogp: [-2, -2], reward: i % 2, group: 0, teacherLogp: null
  }))
  const rehearsal = { rows: [{ prompt: memoryPrompt(cfg, withSolution, prompt(1)).tokens, response: [digitToken(7), Control.EOS] }], weight: 0.3 }

  it("adds exactly weight x the next-token loss of the rehearsed sequences", () => {
    const model = policy(cfg)
    const plan = model.planUpdate(rows, "grpo", false, rehearsal)
    const nll = (w: number) => lossGrads(model.studentSource().params(), () => rehearsalLoss(model.studentSource().params(), model.model, cfg, { batch: plan.sequences[0]!.batch, weight: w })).loss
    const full = nll(1)
    expect(full).toBeGreaterThan(0)
    expect(nll(0.3)).toBeCloseTo(0.3 * full, 5)
    const plain = policy(cfg).update(rows, "grpo", false)
    const rehearsed = model.update(rows, "grpo", false, rehearsal)
    expect(rehearsed.loss).toBeCloseTo(plain.loss + 0.3 * full, 5)
  })

  it("weight 0 or no rows is no rehearsal: the same bits as without", () => {
    const a = policy(cfg)
    const b = policy(cfg)
    const c = policy(cfg)
    a.update(rows, "grpo", false)
    b.update(rows, "grpo", false, { ...rehearsal, weight: 0 })
    c.update(rows, "grpo", false, { rows: [], weight: 0.3 })
    expect(b.hash()).toBe(a.hash())
    expect(c.hash()).toBe(a.hash())
    const d = policy(cfg)
    d.update(rows, "grpo", false, rehearsal)
    expect(d.hash()).not.toBe(a.hash())
  })

  it("micro-batches: the rehearsal is one more gradient part, the update the same up to rounding", () => {
    const micro = policy({ ...cfg, optim: { ...cfg.optim, microBatches: 2 } }).update(rows, "grpo", false, rehearsal)
    const whole = policy(cfg).update(rows, "grpo", false, rehearsal)
    expect(micro.loss).toBeCloseTo(whole.loss, 5)
    expect(micro.gradNorm).toBeCloseTo(whole.gradNorm, 4)
  })
})

describe("the knob in a run", () => {
  it("absent and 0 give the same run; 0.5 another, whose train rows count the rehearsed sequences", () => {
    checkSequenceKnobInRun("memory.rehearsal", { zero: "0", on: "0.5", bad: "-1" }, "rehearsalRows")
  }, 180_000)
})
