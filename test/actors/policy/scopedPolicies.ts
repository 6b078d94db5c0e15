/**
 * Test set-up shared by the policy tests: the wasm backend, and a scope that every policy made in the
 * file lives in, closed after the file's tests. Call at the top level of a test file.
 */
import { Effect, Exit, Scope } from "effect"
import { afterAll, beforeAll } from "vitest"
import { makePolicy } from "../../../actors/policy/index.ts"
import type { PolicyModel } from "../../../actors/policy/PolicyModel.ts"
import type { RunConfig } from "../../../src/config/RunConfig.ts"
import { VOCAB_SIZE } from "../../../src/domains/vocab.ts"
import { initBackend } from "../../../src/numeric/index.ts"

/** A maker of policies (scratch weights, the domain's vocabulary) that live until the file's tests end. */
export const scopedPolicies = (): ((cfg: RunConfig) => PolicyModel) => {
  let scope: Scope.Closeable
  beforeAll(async () => {
    await initBackend("wasm")
    scope = Effect.runSync(Scope.make())
  })
  afterAll(() => Effect.runSync(Scope.close(scope, Exit.void)))
  return (cfg) => Effect.runSync(makePolicy(cfg, { model: { vocabSize: VOCAB_SIZE, ...cfg.model }, weights: null }).pipe(Scope.provide(scope)))
}
