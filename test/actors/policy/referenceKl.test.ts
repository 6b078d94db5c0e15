/**
 * `grpo.beta`: the GRPO part's KL to the reference (the base). The update's batch carries the base's
 * log-prob of each response token, micro-batches and rollout-worker jobs keep it, and the term is zero
 * while the student is the base and positive once it has moved. (Before, a run with `grpo.beta` > 0
 * crashed its policy actor at the first update: the loss had no reference log-probs.)
 */
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import type { PolicyModel, UpdatePlan } from "../../../actors/policy/PolicyModel.ts"
import { batchScopes } from "../../../actors/policy/batch.ts"
import { MicroBatchSchema } from "../../../actors/policy/rolloutProtocol.ts"
import { tinyConfig } from "../../../src/config/presets.ts"
import type { RunConfig } from "../../../src/config/RunConfig.ts"
import { Control } from "../../../src/domains/control.ts"
import { digitToken } from "../../../src/domains/vocab.ts"
import { groupAdvantages } from "../../../src/numeric/losses/index.ts"
import type { UpdateRow } from "../../../src/protocol/policy.ts"
import { scopedPolicies } from "./scopedPolicies.ts"

const policy = scopedPolicies()

const withBeta = (beta: number, over: Partial<RunConfig> = {}): RunConfig =>
  ({ ...tinyConfig, base: "scratch", grpo: { ...tinyConfig.grpo, beta }, ...over })

/** 6 rows in 3 groups of a success and a failure, prompts of 3-4 tokens, responses of 2-4 tokens. */
const rows: Array<UpdateRow> = Array.from({ length: 6 }, (_, i) => {
  const prompt = [Control.PROB, ...Array.from({ length: 1 + (i % 2) }, (_, j) => digitToken((i + j) % 10)), Control.ANS]
  const response = [...Array.from({ length: 1 + (i % 3) }, (_, j) => digitToken((2 * i + j) % 10)), Control.EOS]
  return { prompt, response, oldLogp: response.map(() => -2.5), reward: i % 2, group: Math.floor(i / 2), teacherLogp: null }
})

/** The whole batch's loss of a plan, on the student as it is. */
const wholeLoss = (model: PolicyModel, plan: UpdatePlan, cfg: RunConfig): number =>
  model.microGrads(plan, {
    batch: plan.batch,
    context: { advantages: groupAdvantages(plan.batch.rewards, plan.batch.groups, { scaleRewards: cfg.grpo.scaleRewards }), scope: batchScopes(plan.batch) }
  }).loss

describe("the KL to the base (grpo.beta)", () => {
  it("the batch carries the base's log-prob of each response token, only when a GRPO part has the term", () => {
    const cfg = withBeta(0.1)
    const model = policy(cfg)
    const { batch } = model.planUpdate(rows, "grpo", false)
    const want = model.referenceTokenLogp(rows.map((r) => r.prompt), rows.map((r) => r.response))
    rows.forEach((r, b) => {
      const at = b * batch.T + r.prompt.length - 1
      expect(Array.from(batch.refLogp!.subarray(at, at + r.response.length))).toEqual(Array.from(want[b]!))
      want[b]!.forEach((v) => expect(v).toBeLessThan(0))
    })
    // zero wherever the response mask is
    batch.refLogp!.forEach((v, t) => batch.responseMask[t] === 0 && expect(v).toBe(0))
    expect(policy(withBeta(0)).planUpdate(rows, "grpo", false).batch.refLogp).toBeUndefined()
    // pure distillation has no GRPO part: no term, no extra scoring
    const pure = withBeta(0.1, { sdpo: { ...tinyConfig.sdpo, distillationWeight: 1 } })
    expect(policy(pure).planUpdate(rows, "distill", false).batch.refLogp).toBeUndefined()
    expect(policy(withBeta(0.1)).planUpdate(rows, "distill", false).batch.refLogp).toBeDefined()
  })

  it("micro-batches and the rollout workers' jobs keep the rows' reference log-probs", () => {
    const cfg = withBeta(0.1, { optim: { ...tinyConfig.optim, microBatches: 2 } })
    const plan = policy(cfg).planUpdate(rows, "grpo", false)
    const [first, second] = plan.micro!
    expect(Array.from(first!.batch.refLogp!)).toEqual(Array.from(plan.batch.refLogp!.subarray(0, 3 * plan.batch.T)))
    expect(Array.from(second!.batch.refLogp!)).toEqual(Array.from(plan.batch.refLogp!.subarray(3 * plan.batch.T)))
    const sent = Schema.decodeUnknownSync(MicroBatchSchema)(second)
    expect(Array.from(sent.batch.refLogp!)).toEqual(Array.from(second!.batch.refLogp!))
  })

  it("is zero while the student is the base, and raises the loss once the student has moved", () => {
    const cfg = withBeta(0.5)
    const model = policy(cfg)
    const without = policy(withBeta(0))
    const loss = (m: PolicyModel, c: RunConfig) => wholeLoss(m, m.planUpdate(rows, "grpo", false), c)
    expect(loss(model, cfg)).toBeCloseTo(loss(without, withBeta(0)), 6)
    for (let i = 0; i < 3; i++) model.update(rows, "grpo", false)
    without.importState(model.exportState())
    expect(without.hash()).toBe(model.hash())
    expect(loss(model, cfg)).toBeGreaterThan(loss(without, withBeta(0)) + 1e-6)
  })
})
