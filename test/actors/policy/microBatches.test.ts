/**
 * `optim.microBatches`: the micro-batches' losses and gradients, each weighted as part of the whole batch
 * (advantages and aggregation normalisers of the whole batch), add up to the whole batch's, for each loss
 * kind and aggregation; and one micro-batch keeps the one-pass path.
 */
import { describe, expect, it } from "vitest"
import { batchScopes } from "../../../actors/policy/batch.ts"
import { tinyConfig } from "../../../src/config/presets.ts"
import type { RunConfig } from "../../../src/config/RunConfig.ts"
import { Control } from "../../../src/domains/control.ts"
import { digitToken, VOCAB_SIZE } from "../../../src/domains/vocab.ts"
import type { HostGrads } from "../../../src/numeric/index.ts"
import { groupAdvantages } from "../../../src/numeric/losses/index.ts"
import type { UpdateRow } from "../../../src/protocol/policy.ts"
import { scopedPolicies } from "./scopedPolicies.ts"

const policy = scopedPolicies()


/** 10 rows in 3 groups, responses of 1-5 tokens, a teacher on some rows (a few with none at all). */
const rows: Array<UpdateRow> = Array.from({ length: 10 }, (_, i) => {
  const n = 1 + (i * 3) % 5
  const response = [...Array.from({ length: n - 1 }, (_, j) => digitToken((i + j) % 10)), Control.EOS]
  const teacher = i % 3 === 0 ? null : Float32Array.from({ length: n * VOCAB_SIZE }, (_, j) => -Math.log(VOCAB_SIZE) + ((i + j) % 7) * 0.01)
  return { prompt: [Control.PROB, digitToken(i % 10), Control.ANS], response, oldLogp: response.map(() => -2.5), reward: i % 2, group: i % 3, teacherLogp: teacher }
})

/** Sum of parts, as a map name -> values (float64, for the comparison only). */
const summed = (parts: ReadonlyArray<HostGrads>) => {
  const out = new Map<string, Float64Array>()
  for (const p of parts) for (const g of p.grads) {
    const acc = out.get(g.name) ?? new Float64Array(g.values.length)
    g.values.forEach((v, i) => (acc[i]! += v))
    out.set(g.name, acc)
  }
  return { loss: parts.reduce((a, p) => a + p.loss, 0), grads: out }
}

const cases: ReadonlyArray<readonly [string, "grpo" | "distill", Partial<RunConfig>]> = [
  ["GRPO, dapo", "grpo", {}],
  ["GRPO, grpo (per-sequence)", "grpo", { grpo: { ...tinyConfig.grpo, lossType: "grpo", scaleRewards: "group" } }],
  ["GRPO, dr_grpo", "grpo", { grpo: { ...tinyConfig.grpo, lossType: "dr_grpo" } }],
  ["distillation blended with GRPO, entropy bonus", "distill", { sdpo: { ...tinyConfig.sdpo, distillationWeight: 0.5, entropyCoef: 0.01 } }]
]

describe("micro-batches add up to the whole batch", () => {
  for (const [name, kind, over] of cases) {
    it(name, () => {
      const cfg: RunConfig = { ...tinyConfig, base: "scratch", ...over, optim: { ...tinyConfig.optim, microBatches: 3 } }
      const model = policy(cfg)
      const plan = model.planUpdate(rows, kind, true)
      expect(plan.micro!.map((m) => m.batch.B)).toEqual([3, 3, 4])
      // the whole batch as one "micro-batch" of itself: the one-pass loss
      const whole = model.microGrads(plan, {
        batch: plan.batch,
        context: { advantages: groupAdvantages(plan.batch.rewards, plan.batch.groups, { scaleRewards: cfg.grpo.scaleRewards }), scope: batchScopes(plan.batch) }
      })
      const parts = summed(plan.micro!.map((m) => model.microGrads(plan, m)))
      expect(Math.abs(parts.loss - whole.loss)).toBeLessThan(1e-6 * Math.max(1, Math.abs(whole.loss)))
      let scale = 0
      let worst = 0
      for (const g of whole.grads) {
        const p = parts.grads.get(g.name)!
        g.values.forEach((v, i) => {
          scale = Math.max(scale, Math.abs(v))
          worst = Math.max(worst, Math.abs(v - p[i]!))
        })
      }
      expect(scale).toBeGreaterThan(0)
      expect(worst / scale).toBeLessThan(1e-5)
    })
  }

  it("one micro-batch (or none set) takes the one-pass path", () => {
    const model = policy({ ...tinyConfig, base: "scratch", optim: { ...tinyConfig.optim, microBatches: 1 } })
    expect(model.planUpdate(rows, "grpo", false).micro).toBeNull()
    expect(policy({ ...tinyConfig, base: "scratch" }).planUpdate(rows, "grpo", false).micro).toBeNull()
  })
})
