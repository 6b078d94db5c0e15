/**
 * The policy actor keeps the kernel's promise for its in-place tensors (actors/policy/Policy.ts): an Update
 * or Import whose handler throws leaves the model exactly as it was, so a re-delivered message never meets
 * half-updated weights.
 */
import { Effect, Exit, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makePolicy, policyBehavior } from "../../../actors/policy/index.ts"
import type { PolicyModel } from "../../../actors/policy/PolicyModel.ts"
import { tinyConfig } from "../../../src/config/presets.ts"
import type { RunConfig } from "../../../src/config/RunConfig.ts"
import { Control } from "../../../src/domains/control.ts"
import { digitToken, VOCAB_SIZE } from "../../../src/domains/vocab.ts"
import { initBackend } from "../../../src/numeric/index.ts"
import type { PolicyIn, UpdateRow } from "../../../src/protocol/policy.ts"
import { inPlace } from "../../../src/runtime/InPlace.ts"

const cfg: RunConfig = { ...tinyConfig, base: "scratch" }
const prompt = [Control.PROB, digitToken(1), digitToken(2), Control.ANS]
const row = (reward: number, d: number): UpdateRow => ({
  prompt, response: [digitToken(d), digitToken(d), Control.EOS], oldLogp: [-1, -1, -1], reward, group: 0, teacherLogp: null
})
const update: PolicyIn = { _tag: "Update", rows: [row(1, 3), row(0, 4)], kind: "grpo", importance: false }

let scope: Scope.Closeable
let model: PolicyModel
beforeAll(async () => {
  await initBackend("wasm")
  scope = Effect.runSync(Scope.make())
  model = Effect.runSync(makePolicy(cfg, { model: { vocabSize: VOCAB_SIZE, ...cfg.model }, weights: null }).pipe(Scope.provide(scope)))
})
afterAll(() => Effect.runSync(Scope.close(scope, Exit.void)))

describe("the policy actor: Update and Import are all or nothing", () => {
  it("an update that throws after changing the weights leaves the model as it was; the same update then succeeds", () => {
    const ask = inPlace(policyBehavior(model))
    const before = model.hash()
    const versionBefore = model.version
    // the update runs to the end (weights, optimiser, teacher changed), then the handler throws
    const real = model.update.bind(model)
    model.update = (...args: Parameters<PolicyModel["update"]>) => {
      real(...args)
      throw new Error("injected: after the weights moved")
    }
    expect(Exit.isFailure(Effect.runSyncExit(ask(update)))).toBe(true)
    expect(model.hash()).toBe(before)
    expect(model.version).toBe(versionBefore)
    model.update = real
    const once = Effect.runSync(ask(update))
    expect(once._tag).toBe("Updated")
    expect(model.hash()).not.toBe(before)
  })

  it("a re-delivered update after a rollback gives the bits of one clean update", () => {
    const ask = inPlace(policyBehavior(model))
    const start = model.exportState()
    Effect.runSync(ask(update))
    const clean = model.hash()
    model.importState(start)
    const real = model.update.bind(model)
    model.update = (...args: Parameters<PolicyModel["update"]>) => {
      real(...args)
      throw new Error("injected")
    }
    Effect.runSyncExit(ask(update))
    model.update = real
    Effect.runSync(ask(update))
    expect(model.hash()).toBe(clean)
  })
})
