/**
 * The policy actor's public entry: how to build it from data, and its protocol. Other folders import this
 * module (or src/protocol/policy.ts), never the files beside it (test/architecture/boundaries.test.ts).
 *
 * The policy's state (the student, optimiser, teacher and reference weights: PolicyModel.ts) is built
 * here from the run's config and base weights and released with the scope that built it: its tensors are
 * owned by whoever runs the actor (the pipeline), never handed to the app layer. A checkpoint goes in and
 * out by message (`Import` / `Export`).
 */
import { Effect, type Scope } from "effect"
import type { RunConfig } from "../../src/config/RunConfig.ts"
import type { ModelConfig, Weights } from "../../src/numeric/index.ts"
import { PipelinedPolicy } from "./pipelined.ts"
import { PolicyModel } from "./PolicyModel.ts"

export * from "../../src/protocol/policy.ts"
export { expectOut, policyBehavior } from "./Policy.ts"

/** What a policy is built from (data). */
export interface PolicySpec {
  readonly model: ModelConfig
  /** the base weights; null: the seeded init */
  readonly weights: Weights | null
}

/**
 * The rollout workers of a pipelined run (`async.execution: "pipelined"`; null inline), stopped when the
 * scope closes. Pass them to `policyBehavior` with the model they serve.
 */
export const makeRollout = (cfg: RunConfig, model: PolicyModel): Effect.Effect<PipelinedPolicy | null, never, Scope.Scope> =>
  cfg.async.execution === "pipelined" ? PipelinedPolicy.make(cfg, model) : Effect.succeed(null)

/** The policy's initial state, disposed (every tensor) when the scope closes. */
export const makePolicy = (cfg: RunConfig, spec: PolicySpec): Effect.Effect<PolicyModel, never, Scope.Scope> =>
  Effect.acquireRelease(Effect.sync(() => new PolicyModel(cfg, spec.model, spec.weights)), (m) => Effect.sync(() => m.dispose()))
