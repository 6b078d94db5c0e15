/**
 * The policy actor: a supervised fiber owning the PolicyModel (student, optimiser, teacher weights).
 * It samples rollouts, scores responses as the teacher (the same network, reprompted), and applies
 * updates, one message at a time, so sampling never races an update. Its inbox and replies are data
 * (src/protocol/policy.ts). Its state is not: the model's tensors are mutated in place by `Update` and
 * `Import`, for speed. So that the kernel's promise (state committed only when a handler succeeds, a defect
 * re-delivered against the last committed state) still holds, those two messages first take the model's
 * state as data (`exportState`: weights, optimiser, teacher, history; 5.7 ms measured at the default size on
 * a loaded 2-core machine, 1-2% of a ~400 ms update) and put it back if the handler throws, so a re-delivered update never
 * meets half-updated weights. The read-only messages need no copy. No handler fails with a typed error.
 */
import { Effect, Exit } from "effect"
import { behavior, type Behavior } from "../../src/runtime/Actor.ts"
import { expectTag } from "../../src/runtime/expectTag.ts"
import { PolicyIn, type PolicyOut } from "../../src/protocol/policy.ts"
import type { PipelinedPolicy } from "./pipelined.ts"
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
      const stats = model.update(msg.rows, msg.kind, msg.importance, msg.rehearsal, msg.recall)
      return { _tag: "Updated", stats, policyVersion: model.version }
    }
    case "Hash":
      return { _tag: "Hash", hash: model.hash() }
    case "Export":
      return { _tag: "State", state: model.exportState() }
    case "Import":
      model.importState(msg.state)
      return { _tag: "Done" }
    case "Prefetch":
      // inline execution: the next step samples when it is asked to
      return { _tag: "Done" }
  }
}

export const policyBehavior = (model: PolicyModel, pipelined: PipelinedPolicy | null = null): Behavior<PolicyModel, PolicyIn, PolicyOut> =>
  behavior({
    name: "policy",
    initial: model,
    inbox: PolicyIn,
    capacity: 4,
    askTimeout: "Infinity",
    handle: (m: PolicyModel, msg: PolicyIn) =>
      (pipelined === null ? Effect.sync(() => inline(m, msg)) : viaWorkers(pipelined, msg)).pipe(Effect.map((out) => [m, out] as const))
  })

const inline = (m: PolicyModel, msg: PolicyIn): PolicyOut => (mutates(msg) ? atomically(m, msg) : reply(m, msg))

/** The pipelined execution: the row-wise work split with the rollout workers, the rest as inline. */
const viaWorkers = (p: PipelinedPolicy, msg: PolicyIn): Effect.Effect<PolicyOut> => {
  switch (msg._tag) {
    case "Sample":
      return Effect.promise(() => p.sample(msg.requests, msg.maxNewTokens, msg.lag, msg.greedy)).pipe(
        Effect.map((r): PolicyOut => ({ _tag: "Sampled", results: r.results, policyVersion: r.version }))
      )
    case "Prefetch":
      return Effect.sync(() => (p.prefetch(msg.batches), { _tag: "Done" }))
    case "ScoreTeacher":
      return Effect.promise(() => p.scoreTeacher(msg.contexts, msg.responses)).pipe(Effect.map((logp): PolicyOut => ({ _tag: "Scored", logp })))
    case "Entropy":
      return Effect.promise(() => p.entropy(msg.prompts, msg.responses)).pipe(Effect.map((entropy): PolicyOut => ({ _tag: "Entropy", entropy })))
    case "Update":
      return p.learnerDelay().pipe(Effect.andThen(atomicallyAsync(p.model, () =>
        p.update(msg.rows, msg.kind, msg.importance, msg.rehearsal, msg.recall).then((stats): PolicyOut => ({ _tag: "Updated", stats, policyVersion: p.model.version })))))
    default:
      return Effect.sync(() => inline(p.model, msg))
  }
}

const mutates = (msg: PolicyIn): boolean => msg._tag === "Update" || msg._tag === "Import"

/** `reply`, with the model put back as it was if it throws (the throw still ends the handler, as a defect). */
const atomically = (model: PolicyModel, msg: PolicyIn): PolicyOut => {
  const before = model.exportState()
  try {
    return reply(model, msg)
  } catch (e) {
    model.importState(before)
    throw e
  }
}

/** `atomically` for an update that awaits the workers' micro-batches. */
const atomicallyAsync = (model: PolicyModel, run: () => Promise<PolicyOut>): Effect.Effect<PolicyOut> =>
  Effect.suspend(() => {
    const before = model.exportState()
    return Effect.promise(run).pipe(Effect.onExit((exit) => (Exit.isFailure(exit) ? Effect.sync(() => model.importState(before)) : Effect.void)))
  })

/** Narrows a reply to the tag the request expects (a mismatch is a bug: a defect). */
export const expectOut = <T extends PolicyOut["_tag"]>(out: PolicyOut, tag: T) => expectTag("policy", out, tag)

