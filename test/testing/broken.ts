/**
 * Deliberately broken memory plug-ins, each with the one invariant its bug breaks: the batteries of
 * pmdsim/testing must catch every one (battery tests) while passing the built-ins.
 */
import { emptyBank } from "../../src/memory/behavior/behavior.ts"
import { emptyInsights, type ProblemInsights, updateInsights } from "../../src/memory/insight/insights.ts"
import { reflect } from "../../src/memory/insight/reflect.ts"
import { pmdConsolidator, pmdReflector, pmdRetriever } from "../../src/plugins/builtins.ts"
import { defineConsolidator, defineReflector, defineRetriever } from "../../src/plugins/types.ts"
import type { ConsolidatorPlugin, ReflectorPlugin, RetrieverPlugin } from "../../src/plugins/types.ts"

export const brokenConsolidators: ReadonlyArray<{ readonly plugin: ConsolidatorPlugin; readonly breaks: string }> = [
  {
    // sorts the caller's problem list in place: the memory's own records would change under it
    breaks: "does not mutate its input",
    plugin: defineConsolidator({
      name: "sorts-in-place",
      consolidate: (input, env) => {
        ;(input.problems as unknown as Array<{ id: string }>).sort((a, b) => (a.id < b.id ? 1 : -1))
        return pmdConsolidator.consolidate(input, env)
      }
    })
  },
  {
    // a fencepost: keeps one behavior more than the capacity
    breaks: "caps",
    plugin: defineConsolidator({
      name: "off-by-one",
      consolidate: (input, env) => pmdConsolidator.consolidate(input, { ...env, config: { ...env.config, capacity: env.config.capacity + 1 } })
    })
  },
  {
    // tags every behavior with a rollout nobody produced
    breaks: "provenance complete",
    plugin: defineConsolidator({
      name: "invents-sources",
      consolidate: (input, env) => {
        const r = pmdConsolidator.consolidate(input, env)
        const behaviors = r.bank.behaviors.map((b) => ({ ...b, sources: { ...b.sources, rolloutIds: [...b.sources.rolloutIds, "r-made-up"] } }))
        return { bank: { ...r.bank, behaviors } }
      }
    })
  },
  {
    // reports its updates but not what it added or removed
    breaks: "edits account for the change",
    plugin: defineConsolidator({
      name: "partial-edits",
      consolidate: (input, env) => {
        const r = pmdConsolidator.consolidate(input, env)
        return { ...r, edits: (r.edits ?? []).filter((e) => e.op === "update") }
      }
    })
  },
  {
    // starts from an empty bank every time: usage counters are reset
    breaks: "monotone",
    plugin: defineConsolidator({
      name: "resets-counters",
      consolidate: (input, env) => {
        const fresh = pmdConsolidator.consolidate({ ...input, bank: emptyBank }, env).bank
        const kept = input.bank.behaviors.filter((b) => fresh.behaviors.every((f) => f.id !== b.id))
        const behaviors = [...fresh.behaviors, ...kept].sort((a, b) => (a.id < b.id ? -1 : 1)).slice(0, env.config.capacity)
        return { bank: { behaviors, retired: input.bank.retired } }
      }
    })
  },
  {
    // throws away behaviors that worked (say, "they are learned now") although the bank has room
    breaks: "no success lost below the cap",
    plugin: defineConsolidator({
      name: "drops-successes",
      consolidate: (input, env) => {
        const r = pmdConsolidator.consolidate(input, env)
        return { bank: { ...r.bank, behaviors: r.bank.behaviors.filter((b) => b.successes === 0) } }
      }
    })
  },
  {
    // hidden state: every other call skips the consolidation
    breaks: "determinism",
    plugin: (() => {
      let calls = 0
      return defineConsolidator({ name: "every-other-call", consolidate: (input, env) => (calls++ % 2 === 0 ? pmdConsolidator.consolidate(input, env) : { bank: input.bank }) })
    })()
  },
  {
    // a budget that keeps the first problems in arrival order
    breaks: "independence from input order",
    plugin: defineConsolidator({
      name: "first-two-problems",
      consolidate: (input, env) => pmdConsolidator.consolidate({ ...input, problems: input.problems.slice(0, 2) }, env)
    })
  }
]

export const brokenReflectors: ReadonlyArray<{ readonly plugin: ReflectorPlugin; readonly breaks: string }> = [
  {
    breaks: "caps",
    plugin: defineReflector({ name: "uncapped", reflect: (prev, exp, ctx, env) => pmdReflector.reflect(prev, exp, ctx, { ...env, insight: { ...env.insight, maxPerKind: 1000 } }) })
  },
  {
    // rebuilds the insights from this reflection alone: what was learned before is lost
    breaks: "monotone",
    plugin: defineReflector({ name: "overwrites", reflect: (prev, exp, ctx, env) => ({ next: updateInsights(emptyInsights(prev.problemId), reflect(exp, ctx, env.reflect), env.embed, env.insight).next }) })
  },
  {
    // "transfer": borrows the strategies of the problem reflected just before, so a problem's insights
    // depend on which problem happened to come before it in the batch
    breaks: "independence from input order",
    plugin: (() => {
      let last: ProblemInsights | undefined
      return defineReflector({
        name: "borrows-from-previous",
        reflect: (prev, exp, ctx, env) => {
          const out = pmdReflector.reflect(prev, exp, ctx, env)
          const borrowed = last !== undefined && last.problemId !== prev.problemId
            ? last.strategies.map((s) => ({ ...s, problemId: prev.problemId, id: `${s.id}@${prev.problemId}` })) : []
          last = out.next
          return borrowed.length === 0 ? out : { next: { ...out.next, strategies: [...out.next.strategies, ...borrowed].slice(0, env.insight.maxPerKind) } }
        }
      })
    })()
  }
]

/** Shows one behavior more than K. */
export const greedyRetriever: RetrieverPlugin = defineRetriever({ name: "k-plus-one", retrieve: (bank, q, env) => pmdRetriever.retrieve(bank, q, { ...env, k: env.k + 1 }) })
