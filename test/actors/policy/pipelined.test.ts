/**
 * The policy's pipelined execution (actors/policy/pipelined.ts) computes the inline bits: rows split
 * between this thread and rollout workers, a prefetch taken only by the request that asks exactly for it,
 * and a dead worker's rows computed here.
 */
import { Effect, Exit, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makePolicy, makeRollout } from "../../../actors/policy/index.ts"
import type { PipelinedPolicy } from "../../../actors/policy/pipelined.ts"
import type { PolicyModel } from "../../../actors/policy/PolicyModel.ts"
import { tinyConfig } from "../../../src/config/presets.ts"
import type { RunConfig } from "../../../src/config/RunConfig.ts"
import { Control } from "../../../src/domains/control.ts"
import { digitToken, VOCAB_SIZE } from "../../../src/domains/vocab.ts"
import { initBackend } from "../../../src/numeric/index.ts"
import type { SampleRequest, UpdateRow } from "../../../src/protocol/policy.ts"

const cfg: RunConfig = {
  ...tinyConfig, base: "scratch", teacher: { kind: "ema", emaRate: 0.3, interpolation: 0.5 },
  async: { ...tinyConfig.async, staleness: 1, lagSchedule: "fixed", execution: "pipelined", rolloutWorkers: 2, injectDelayMs: 15 },
  optim: { ...tinyConfig.optim, microBatches: 3 }
}
const prompt = (i: number) => [Control.PROB, digitToken(i % 10), digitToken((i * 7) % 10), Control.ANS]
const requests: Array<SampleRequest> = Array.from({ length: 11 }, (_, i) => ({ prompt: prompt(i), key: ["rollout", 1, `p${i}`, i % 3] }))
const rows: Array<UpdateRow> = [3, 4, 5].map((d, i) => ({
  prompt: prompt(i), response: [digitToken(d), digitToken(d), Control.EOS], oldLogp: [-1, -1, -1], reward: i % 2, group: 0, teacherLogp: null
}))
const bits = (x: unknown) => JSON.stringify(x, (_, v) => (v instanceof Float32Array ? Array.from(v) : v))

/** An inline policy and a pipelined one of the same config and weights, both released with `scope`. */
const pair = async (config: RunConfig, scope: Scope.Closeable) => {
  const spec = { model: { vocabSize: VOCAB_SIZE, ...config.model }, weights: null }
  const inline = Effect.runSync(makePolicy(config, spec).pipe(Scope.provide(scope)))
  const model = Effect.runSync(makePolicy(config, spec).pipe(Scope.provide(scope)))
  return { inline, pipelined: (await Effect.runPromise(makeRollout(config, model).pipe(Scope.provide(scope))))! }
}

let scope: Scope.Closeable
let inline: PolicyModel
let pipelined: PipelinedPolicy
beforeAll(async () => {
  await initBackend("wasm")
  scope = Effect.runSync(Scope.make())
  ;({ inline, pipelined } = await pair(cfg, scope))
}, 60_000)
afterAll(() => Effect.runPromise(Scope.close(scope, Exit.void)))

describe("the pipelined policy", () => {
  it("a prefetch made before the update is taken by the next step's request for that version, with the inline bits", async () => {
    const teacherBefore = await pipelined.scoreTeacher(requests.map((r) => r.prompt), requests.map(() => [digitToken(1), Control.EOS]))
    expect(bits(teacherBefore)).toBe(bits(inline.scoreTeacher(requests.map((r) => r.prompt), requests.map(() => [digitToken(1), Control.EOS]))))
    // the next step samples one update behind: version 0, which exists now
    pipelined.prefetch([{ requests, maxNewTokens: 6, version: 0, greedy: false }])
    // the update's 3 micro-batches: one here, one on each worker, summed in order
    expect(await pipelined.update(rows, "grpo", false)).toEqual(inline.update(rows, "grpo", false))
    expect(pipelined.model.hash()).toBe(inline.hash())
    const taken = pipelined.prefetchTaken
    const got = await pipelined.sample(requests, 6, 1, false)
    expect(pipelined.prefetchTaken).toBe(taken + 1)
    const want = inline.sample(requests, 6, 1, false)
    expect(got.version).toBe(0)
    expect(bits(got)).toBe(bits(want))
    // teacher (EMA, interpolated with the reference) and entropy, split across the threads
    const responses = want.results.map((r) => r.tokens)
    const contexts = requests.map((r) => r.prompt)
    expect(bits(await pipelined.scoreTeacher(contexts, responses))).toBe(bits(inline.scoreTeacher(contexts, responses)))
    expect(await pipelined.entropy(contexts, responses)).toBe(inline.entropy(contexts, responses))
  }, 60_000)

  it("a rehearsal (memory.rehearsal) and a recall (memory.recall) join the update on the learner's thread, with the inline bits", async () => {
    const rehearsal = { rows: [{ prompt: [...prompt(9), Control.SOL], response: [digitToken(4), Control.EOS] }], weight: 0.5 }
    expect(await pipelined.update(rows, "distill", false, rehearsal)).toEqual(inline.update(rows, "distill", false, rehearsal))
    expect(pipelined.model.hash()).toBe(inline.hash())
    const recall = { rows: [{ prompt: prompt(8), response: [digitToken(3), Control.EOS] }], weight: 0.5 }
    expect(await pipelined.update(rows, "distill", false, rehearsal, recall)).toEqual(inline.update(rows, "distill", false, rehearsal, recall))
    expect(pipelined.model.hash()).toBe(inline.hash())
  }, 60_000)

  it("a prefetch is not taken by another request, nor for weights the policy does not have; the results stay inline's", async () => {
    pipelined.prefetch([{ requests: requests.slice(1), maxNewTokens: 6, version: pipelined.model.version, greedy: false }, { requests, maxNewTokens: 6, version: 99, greedy: false }])
    const taken = pipelined.prefetchTaken
    expect(bits(await pipelined.sample(requests, 6, 0, false))).toBe(bits(inline.sample(requests, 6, 0, false)))
    expect(bits(await pipelined.sample(requests, 6, 0, true))).toBe(bits(inline.sample(requests, 6, 0, true)))
    expect(pipelined.prefetchTaken).toBe(taken)
  }, 60_000)

  it("a prefetch asked for at once is finished by every thread (its chunks left in the queue run here), with the inline bits", async () => {
    const many: Array<SampleRequest> = Array.from({ length: 40 }, (_, i) => ({ prompt: prompt(i), key: ["rollout", 2, `q${i}`, i % 5] }))
    pipelined.prefetch([{ requests: many, maxNewTokens: 6, version: pipelined.model.version, greedy: false }])
    const taken = pipelined.prefetchTaken
    expect(bits(await pipelined.sample(many, 6, 0, false))).toBe(bits(inline.sample(many, 6, 0, false)))
    expect(pipelined.prefetchTaken).toBe(taken + 1)
  }, 60_000)

  it("rows and micro-batches of a worker that died are computed on the learner's thread, with the same bits", async () => {
    const pool = (pipelined as unknown as { pool: { slots: Array<{ worker: { terminate: () => Promise<number> } }>; alive: () => Array<number> } }).pool
    const pending = pipelined.sample(requests, 6, 0, false)
    await pool.slots[0]!.worker.terminate()
    expect(bits(await pending)).toBe(bits(inline.sample(requests, 6, 0, false)))
    expect(pool.alive()).toEqual([1])
    expect(bits(await pipelined.sample(requests, 6, 0, false))).toBe(bits(inline.sample(requests, 6, 0, false)))
    // an update whose worker dies mid-way: its micro-batch is computed here
    const updating = pipelined.update(rows, "grpo", true)
    await pool.slots[1]!.worker.terminate()
    expect(await updating).toEqual(inline.update(rows, "grpo", true))
    expect(pipelined.model.hash()).toBe(inline.hash())
  }, 60_000)
})

describe("the next step's rollouts as background work", () => {
  // one slow worker and one-pass updates: most chunks are still queued when the update changes the student
  const slow: RunConfig = { ...cfg, async: { ...cfg.async, rolloutWorkers: 1, injectDelayMs: 60 }, optim: { ...tinyConfig.optim } }
  let own: Scope.Closeable
  let reference: PolicyModel
  let policy: PipelinedPolicy
  beforeAll(async () => {
    own = Effect.runSync(Scope.make())
    ;({ inline: reference, pipelined: policy } = await pair(slow, own))
  }, 60_000)
  afterAll(() => Effect.runPromise(Scope.close(own, Exit.void)))

  it("chunks computed after the update read the version they were queued for, not the updated student", async () => {
    const many: Array<SampleRequest> = Array.from({ length: 64 }, (_, i) => ({ prompt: prompt(i), key: ["rollout", 3, `b${i}`, i % 4] }))
    policy.prefetch([{ requests: many, maxNewTokens: 6, version: policy.model.version, greedy: false }])
    // the update runs in one pass on this thread: nothing of the queue runs before the student changes
    expect(await policy.update(rows, "grpo", true)).toEqual(reference.update(rows, "grpo", true))
    const taken = policy.prefetchTaken
    const got = await policy.sample(many, 6, 1, false)
    expect(policy.prefetchTaken).toBe(taken + 1)
    expect(got.version).toBe(0)
    expect(bits(got)).toBe(bits(reference.sample(many, 6, 1, false)))
  }, 60_000)
})
