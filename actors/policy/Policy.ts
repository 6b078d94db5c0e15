/**
 * The policy actor: a supervised fiber owning the PolicyModel (student, optimiser, teacher weights).
 * It samples rollouts, scores responses as the teacher (the same network, reprompted), and applies
 * updates, one message at a time, so sampling never races an update.
 */
import { Effect } from "effect"
import { behavior, type Behavior } from "../../src/runtime/Actor.ts"
import { expectTag } from "../../src/runtime/expectTag.ts"
import type { SampleResult } from "../../src/numeric/index.ts"
import type { LossKind } from "./loss.ts"
import type { PolicyModel, PolicyState, SampleRequest, UpdateStats } from "./PolicyModel.ts"
import type { UpdateRow } from "./batch.ts"

export type PolicyIn =
  | { readonly _tag: "Sample"; readonly requests: ReadonlyArray<SampleRequest>; readonly maxNewTokens: number; readonly lag: number; readonly greedy: boolean }
  | { readonly _tag: "ScoreTeacher"; readonly contexts: ReadonlyArray<ReadonlyArray<number>>; readonly responses: ReadonlyArray<ReadonlyArray<number>> }
  | { readonly _tag: "Entropy"; readonly prompts: ReadonlyArray<ReadonlyArray<number>>; readonly responses: ReadonlyArray<ReadonlyArray<number>> }
  | { readonly _tag: "Update"; readonly rows: ReadonlyArray<UpdateRow>; readonly kind: LossKind; readonly importance: boolean }
  | { readonly _tag: "Hash" }
  | { readonly _tag: "Export" }
  | { readonly _tag: "Import"; readonly state: PolicyState }

export type PolicyOut =
  | { readonly _tag: "Sampled"; readonly results: ReadonlyArray<SampleResult>; readonly policyVersion: number }
  | { readonly _tag: "Scored"; readonly logp: ReadonlyArray<Float32Array> }
  | { readonly _tag: "Entropy"; readonly entropy: number }
  | { readonly _tag: "Updated"; readonly stats: UpdateStats; readonly policyVersion: number }
  | { readonly _tag: "Hash"; readonly hash: string }
  | { readonly _tag: "State"; readonly state: PolicyState }
  | { readonly _tag: "Done" }

const reply = (model: PolicyModel, msg: PolicyIn): PolicyOut => {
  switch (msg._tag) {
    case "Sample": {
      const r = model.sample(msg.requests, msg.maxNewTokens, msg.lag, msg.greedy)
      return { _tag: "Sampled", results: r.results, policyVersion: r.version }
    }
    case "ScoreTeacher":
      return { _tag: "Scored", logp: model.scoreTeacher(msg.contexts, msg.responses) }
    case "Entropy":
      return { _tag: "Entropy", entropy: model.entropy(msg.prompts, msg.responses) }
    case "Update": {
      const stats = model.update(msg.rows, msg.kind, msg.importance)
      return { _tag: "Updated", stats, policyVersion: model.version }
    }
    case "Hash":
      return { _tag: "Hash", hash: model.hash() }
    case "Export":
      return { _tag: "State", state: model.exportState() }
    case "Import":
      model.importState(msg.state)
      return { _tag: "Done" }
  }
}

export const policyBehavior = (model: PolicyModel): Behavior<PolicyModel, PolicyIn, PolicyOut> =>
  behavior({
    name: "policy",
    initial: model,
    capacity: 4,
    askTimeout: "Infinity",
    handle: (m: PolicyModel, msg: PolicyIn) => Effect.sync(() => [m, reply(m, msg)] as const)
  })

/** Narrows a reply to the tag the request expects (a mismatch is a bug: a defect). */
export const expectOut = <T extends PolicyOut["_tag"]>(out: PolicyOut, tag: T) => expectTag("policy", out, tag)

