/**
 * "top-usage": a consolidator that keeps the behaviors teachers actually use. It runs PMD's own
 * consolidation with room for every behavior, then keeps the `capacity` most-used ones (Memp hits, then
 * successes, then support, then id), where PMD would keep the best-supported ones.
 *
 * What a pmdsim consolidator must promise (checked by pmdsim/testing's checkConsolidator): pure and
 * deterministic, independent of input order, at most `capacity` behaviors, provenance from its input,
 * counters that never shrink, and a successful behavior dropped only for an explained reason or when
 * the bank is full. Ranking by a total order (the id breaks every tie) is what keeps it order-independent.
 */
import { bankEdits, type Behavior, type BehaviorBank, type BehaviorEdit, type ConsolidatorPlugin, defineConsolidator, pmdConsolidator } from "pmdsim/plugins"

/** Most used first: hits, successes, support; the id settles every tie. */
export const byUsage = (a: Behavior, b: Behavior): number =>
  b.hits - a.hits || b.successes - a.successes || b.support - a.support || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

const byId = (a: Behavior, b: Behavior): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/**
 * The consolidator, given how it cuts the ranked behaviors down to the capacity (the broken variant,
 * topUsageBroken.ts, cuts differently).
 */
export const makeTopUsage = (name: string, cut: (ranked: ReadonlyArray<Behavior>, capacity: number) => ReadonlyArray<Behavior>): ConsolidatorPlugin =>
  defineConsolidator({
    name,
    description: "PMD's consolidation, then keep the `capacity` most-used behaviors (hits, successes, support)",
    consolidate: (input, env) => {
      const wide = pmdConsolidator.consolidate(input, { ...env, config: { ...env.config, capacity: Number.MAX_SAFE_INTEGER } })
      const kept = [...cut([...wide.bank.behaviors].sort(byUsage), env.config.capacity)].sort(byId)
      const bank: BehaviorBank = { behaviors: kept, retired: wide.bank.retired }
      // PMD's removals keep their reason (deprecated, contradicted); what the cut drops is a capacity removal
      const reasons = new Map((wide.edits ?? []).flatMap((e) => (e.op === "remove" ? [[e.behavior.id, e.reason] as const] : [])))
      const edits = bankEdits(input.bank, bank).map((e): BehaviorEdit => {
        const reason = e.op === "remove" ? reasons.get(e.behavior.id) : undefined
        return e.op === "remove" && reason !== undefined ? { ...e, reason } : e
      })
      return { bank, edits, ...(wide.clusters === undefined ? {} : { clusters: wide.clusters }) }
    }
  })

export const topUsage: ConsolidatorPlugin = makeTopUsage("top-usage", (ranked, capacity) => ranked.slice(0, capacity))
