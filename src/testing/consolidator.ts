/**
 * checkConsolidator: the invariants every consolidator plug-in must keep, as one property over random
 * consolidations (problems from latent templates with insights, a prior bank built and used, a
 * capacity and near-duplicate threshold, a shuffle of the input), checked in this order:
 *
 * 1. does not mutate its input (memory records are shared between versions);
 * 2. caps: at most `capacity` behaviors, sorted by distinct ids, support = |problem ids|;
 * 3. provenance complete: every behavior has sources, all of them rollouts of the input insights or of
 *    the prior bank, and its problems are known problems;
 * 4. edits account for the change: every behavior that left has a `remove` edit, every new one a `new`;
 * 5. monotone: a surviving behavior's hits, successes and support never decrease, its sources only grow;
 * 6. no success lost below the cap: a behavior with successes leaves only through a remove edit with a
 *    reason ("deprecated", "contradicted"), or for "capacity" when the bank is full;
 * 7. determinism: the same input gives the same bank (same snapshot id: the content hash of the bank);
 * 8. independence from input order: shuffled problems, insights and insight lists give the same bank.
 */
import * as fc from "fast-check"
import { hashValue } from "../core/Hash.ts"
import { type BehaviorBank, emptyBank } from "../memory/behavior/behavior.ts"
import { consolidate, type ConsolidateConfig, defaultConsolidateConfig, type ConsolidateInput } from "../memory/behavior/consolidate.ts"
import { recordUses } from "../memory/behavior/usage.ts"
import type { Embedder } from "../memory/embed/hashEmbed.ts"
import { normaliseConsolidation } from "../plugins/apply.ts"
import type { ConsolidatorPlugin } from "../plugins/types.ts"
import { consolidationInput, type EmbeddedProblem, shuffled, testEmbedder } from "./arbitraries.ts"
import { type BatteryOptions, type BatteryReport, holds, runBattery } from "./battery.ts"
import { showBank, showInsights } from "./render.ts"

export const CONSOLIDATOR_INVARIANTS = [
  "does not mutate its input", "caps", "provenance complete", "edits account for the change", "monotone",
  "no success lost below the cap", "determinism", "independence from input order"
] as const

/** One consolidation to check: the input (problems keep their prompt tokens for display) and the config. */
export interface ConsolidatorCase {
  readonly input: Omit<ConsolidateInput, "problems"> & { readonly problems: ReadonlyArray<EmbeddedProblem> }
  readonly config: ConsolidateConfig
  readonly shuffleSeed: number
}

/**
 * Consolidations over the problems p0..pn (from latent templates) with insights, a capacity and a
 * near-duplicate threshold; the prior bank is what the built-in consolidator made of other insights of
 * the same problem ids, with Memp usage recorded on it.
 */
export const consolidatorCase = (opts: { readonly embed?: Embedder; readonly config?: Partial<ConsolidateConfig> } = {}): fc.Arbitrary<ConsolidatorCase> =>
  fc.record({
    capacity: fc.integer({ min: 1, max: 12 }),
    dupThreshold: fc.double({ min: 0.5, max: 1, noNaN: true }),
    input: consolidationInput(opts),
    earlier: consolidationInput(opts),
    uses: fc.array(fc.tuple(fc.nat(20), fc.boolean()), { maxLength: 12 }),
    shuffleSeed: fc.integer()
  }).map((c): ConsolidatorCase => {
    const embed = opts.embed ?? testEmbedder
    const config: ConsolidateConfig = { ...defaultConsolidateConfig, capacity: c.capacity, dupThreshold: c.dupThreshold, ...opts.config }
    let bank = consolidate({ ...c.earlier, bank: emptyBank, ctx: { step: 1, policyVersion: 1 } }, embed, config).bank
    const bs = bank.behaviors
    if (bs.length > 0) bank = recordUses(bank, c.uses.map(([k, success]) => ({ behaviorId: bs[k % bs.length]!.id, success })))
    return { input: { ...c.input, bank, ctx: { step: 5, policyVersion: 3 } }, config, shuffleSeed: c.shuffleSeed }
  })

const renderCase = (c: ConsolidatorCase): string => [
  `  capacity ${c.config.capacity}, dupThreshold ${c.config.dupThreshold}, ctx step ${c.input.ctx.step} policyVersion ${c.input.ctx.policyVersion}, shuffle seed ${c.shuffleSeed}`,
  `  problems: ${c.input.problems.map((p) => `${p.id} [${p.tokens.join(" ")}]`).join(", ")}`,
  "  insights:", ...c.input.insights.map((p) => showInsights(p)),
  "  prior bank:", showBank(c.input.bank)
].join("\n")

const bankId = (bank: BehaviorBank): string => hashValue(bank)

/**
 * Checks `plugin` against the consolidator invariants on `numRuns` random cases (default 200); throws an
 * InvariantViolation with the shrunk counterexample when one breaks, returns what was checked otherwise.
 */
export const checkConsolidator = (
  plugin: ConsolidatorPlugin, opts: BatteryOptions & { readonly embed?: Embedder; readonly config?: Partial<ConsolidateConfig> } = {}
): BatteryReport => {
  const embed = opts.embed ?? testEmbedder
  const call = (input: ConsolidateInput, config: ConsolidateConfig) => normaliseConsolidation(input, plugin.consolidate(input, { embed, config }))
  return runBattery("checkConsolidator", plugin.name, CONSOLIDATOR_INVARIANTS, consolidatorCase(opts), (c) => {
    const { input, config } = c
    const before = hashValue(input)
    const out = call(input, config)
    holds(hashValue(input) === before, "does not mutate its input", () => "the input (problems, insights or prior bank) changed during the call")
    const bs = out.bank.behaviors
    holds(bs.length <= config.capacity, "caps", () => `the bank holds ${bs.length} behaviors, the capacity is ${config.capacity}`)
    for (let i = 1; i < bs.length; i++) holds(bs[i - 1]!.id < bs[i]!.id, "caps", () => `behaviors are not sorted by distinct ids: ${bs[i - 1]!.id} before ${bs[i]!.id}`)
    for (const b of bs) holds(b.support === b.problemIds.length, "caps", () => `${b.id}: support ${b.support} but ${b.problemIds.length} problem ids`)
    // 3. provenance
    const rollouts = new Set([...input.insights.flatMap((p) => [...p.strategies, ...p.lessons].flatMap((i) => i.sources.rolloutIds)), ...input.bank.behaviors.flatMap((b) => b.sources.rolloutIds)])
    const problems = new Set([...input.problems.map((p) => p.id), ...input.bank.behaviors.flatMap((b) => b.problemIds)])
    for (const b of bs) {
      holds(b.sources.rolloutIds.length > 0, "provenance complete", () => `${b.id} has no source rollout`)
      for (const r of b.sources.rolloutIds) holds(rollouts.has(r), "provenance complete", () => `${b.id} cites rollout ${r}, which no input insight or prior behavior cites`)
      for (const p of b.problemIds) holds(problems.has(p), "provenance complete", () => `${b.id} names problem ${p}, which is not in the input`)
    }
    // 4. edits
    const after = new Map(bs.map((b) => [b.id, b]))
    const prior = new Map(input.bank.behaviors.map((b) => [b.id, b]))
    const removed = new Map(out.edits.flatMap((e) => (e.op === "remove" ? [[e.behavior.id, e.reason] as const] : [])))
    const created = new Set(out.edits.flatMap((e) => (e.op === "new" ? [e.behavior.id] : [])))
    for (const id of prior.keys()) if (!after.has(id)) holds(removed.has(id), "edits account for the change", () => `${id} left the bank without a remove edit`)
    for (const id of after.keys()) if (!prior.has(id)) holds(created.has(id), "edits account for the change", () => `${id} entered the bank without a new edit`)
    // 5. monotone
    for (const [id, was] of prior) {
      const now = after.get(id)
      if (now === undefined) continue
      for (const k of ["hits", "successes", "support"] as const) holds(now[k] >= was[k], "monotone", () => `${id}: ${k} went from ${was[k]} to ${now[k]}`)
      const src = new Set(now.sources.rolloutIds)
      for (const r of was.sources.rolloutIds) holds(src.has(r), "monotone", () => `${id} lost source rollout ${r}`)
    }
    // 6. successes kept while there is room
    for (const [id, was] of prior) {
      if (after.has(id) || was.successes === 0) continue
      const reason = removed.get(id)
      holds(reason !== undefined && (reason !== "capacity" || bs.length === config.capacity), "no success lost below the cap",
        () => `${id} (${was.successes} successes) left a bank of ${bs.length} < capacity ${config.capacity}${reason === undefined ? "" : ` as a "${reason}" removal`}`)
    }
    // 7. determinism: a structural copy of the same input
    const again = call(structuredClone(input), config)
    holds(bankId(again.bank) === bankId(out.bank), "determinism", () => `the same input gave two banks:\n  first:\n${showBank(out.bank)}\n  then:\n${showBank(again.bank)}`)
    // 8. order independence
    const s = c.shuffleSeed
    const reordered: ConsolidateInput = {
      ...input,
      problems: shuffled(input.problems, s),
      insights: shuffled(input.insights, s + 1).map((p) => ({ ...p, strategies: shuffled(p.strategies, s + 2), lessons: shuffled(p.lessons, s + 3) }))
    }
    const other = call(reordered, config)
    holds(bankId(other.bank) === bankId(out.bank), "independence from input order", () =>
      `shuffling the problems and insights changed the bank:\n  in order:\n${showBank(out.bank)}\n  shuffled (problems ${reordered.problems.map((p) => p.id).join(",")}):\n${showBank(other.bank)}`)
  }, renderCase, 200, opts)
}
