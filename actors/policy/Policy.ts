/**
 * The policy actor: a supervised fiber owning the PolicyModel (student, optimiser, teacher weights).
 * It samples rollouts, scores responses as the teacher (the same network, reprompted), and applies
 * updates, one message at a time, so sampling never races an update. Its inbox and replies are data
 * (src/protocol/policy.ts). Its state is not: the model's tensors are mutated in place by `Update` and
 * `Import` (a copy of every weight per message would cost more than the step), so the kernel's promise
 * (state committed only when a handler succeeds) does not cover them: a crash inside an update would be
 * re-delivered against half-updated weights. No handler here fails with a typed error.
 */
import { Effect } from "effect"
import { behavior, type Behavior } from "../../src/runtime/Actor.ts"
import { expectTag } from "../../src/runtime/expectTag.ts"
import { PolicyIn, type PolicyOut } from "../../src/protocol/policy.ts"
import type { PolicyModel } from "./PolicyModel.ts"

export { PolicyIn, PolicyOut } from "../../src/protocol/policy.ts"

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
    inbox: PolicyIn,
    capacity: 4,
    askTimeout: "Infinity",
    handle: (m: PolicyModel, msg: PolicyIn) => Effect.sync(() => [m, reply(m, msg)] as const)
  })

/** Narrows a reply to the tag the request expects (a mismatch is a bug: a defect). */
export const expectOut = <T extends PolicyOut["_tag"]>(out: PolicyOut, tag: T) => expectTag("policy", out, tag)

