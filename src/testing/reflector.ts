/**
 * checkReflector: the invariants every reflector plug-in must keep, as one property over random
 * histories of one problem (batches of rollouts with verdicts and feedback, through the built-in
 * experience memory; after each batch the plug-in reflects on the experience, its previous output
 * as `prev`). After every batch, in this order:
 *
 * 1. does not mutate its input;
 * 2. well-formed: the problem's own insights, strategies of kind "strategy", lessons of kind "lesson", ids distinct;
 * 3. caps: at most `maxPerKind` strategies and as many lessons;
 * 4. provenance complete: every insight has sources, all of them rollouts offered to this problem so far;
 * 5. monotone (insights accumulate): every insight of `prev` is kept, its support never decreases, its sources only grow;
 * 6. determinism: the same input gives the same insights (same content hash);
 * 7. independence from input order: reflecting the problem after another problem of the same batch
 *    (a renamed copy, "q") gives the same insights, so no state carries over from one problem to the next.
 *
 * The experience is what the experience memory makes of the rollouts: its items sorted by rollout id,
 * whatever order they arrived in (part of a reflector's input contract, not re-checked here).
 */
import * as fc from "fast-check"
import { hashValue } from "../core/Hash.ts"
import type { Embedder } from "../memory/embed/hashEmbed.ts"
import { emptyExperience, type ExperienceConfig, type ProblemExperience, updateExperience } from "../memory/experience/experience.ts"
import { defaultInsightConfig, emptyInsights, type InsightConfig, type ProblemInsights } from "../memory/insight/insights.ts"
import { defaultReflectConfig } from "../memory/insight/reflect.ts"
import type { RolloutGroup } from "../memory/pipeline.ts"
import type { ReflectorPlugin } from "../plugins/types.ts"
import { rollout, testEmbedder, toAttempt } from "./arbitraries.ts"
import { type BatteryOptions, type BatteryReport, holds, runBattery } from "./battery.ts"
import { showGroups, showInsights } from "./render.ts"

export const REFLECTOR_INVARIANTS = [
  "does not mutate its input", "well-formed", "caps", "provenance complete", "monotone", "determinism", "independence from input order"
] as const

export interface ReflectorCase {
  readonly insight: InsightConfig
  /** The problem's batches of rollouts, one per step (ids `s<step>/p/r<i>`). */
  readonly batches: ReadonlyArray<RolloutGroup>
}

/** The same experience under another problem id (and rollout ids), as another problem of the batch. */
const renamed = (e: ProblemExperience, id: string): ProblemExperience => {
  const item = (x: ProblemExperience["successes"][number]) => ({ ...x, id: `${id}:${x.id}`, prov: { ...x.prov, rolloutId: `${id}:${x.prov.rolloutId}` } })
  return { ...e, problemId: id, successes: e.successes.map(item), failures: e.failures.map(item) }
}

const EXPERIENCE: ExperienceConfig = { maxSuccesses: 5, maxFailures: 3, dupThreshold: 0.97 }

export const reflectorCase = (): fc.Arbitrary<ReflectorCase> =>
  fc.record({
    maxPerKind: fc.integer({ min: 0, max: 10 }),
    noveltyThreshold: fc.double({ min: 0.3, max: 1, noNaN: true }),
    batches: fc.array(fc.array(rollout(), { maxLength: 8 }), { minLength: 1, maxLength: 5 })
  }).map((c) => ({
    insight: { ...defaultInsightConfig, maxPerKind: c.maxPerKind, noveltyThreshold: c.noveltyThreshold },
    batches: c.batches.map((b, step) => ({ problemId: "p", attempts: b.map((r, i) => toAttempt(r, `s${step}/p/r${i}`, step, step)) }))
  }))

const renderCase = (c: ReflectorCase): string =>
  [`  maxPerKind ${c.insight.maxPerKind}, noveltyThreshold ${c.insight.noveltyThreshold}`,
    ...c.batches.flatMap((g, step) => [`  batch ${step} (step ${step}):`, showGroups([g], "    ")])].join("\n")

/**
 * Checks `plugin` against the reflector invariants on `numRuns` random histories (default 200); throws an
 * InvariantViolation with the shrunk counterexample when one breaks, returns what was checked otherwise.
 */
export const checkReflector = (plugin: ReflectorPlugin, opts: BatteryOptions & { readonly embed?: Embedder } = {}): BatteryReport => {
  const embed = opts.embed ?? testEmbedder
  return runBattery("checkReflector", plugin.name, REFLECTOR_INVARIANTS, reflectorCase(), (c) => {
    const env = { embed, insight: c.insight, reflect: defaultReflectConfig }
    let exp: ProblemExperience = emptyExperience("p")
    let prev: ProblemInsights = emptyInsights("p")
    const offered = new Set<string>()
    c.batches.forEach((batch, step) => {
      const at = (d: string) => `after batch ${step}: ${d}`
      exp = updateExperience(exp, batch.attempts, embed, EXPERIENCE).next
      for (const a of batch.attempts) offered.add(a.prov.rolloutId)
      const ctx = { step, policyVersion: step }
      const before = hashValue([prev, exp])
      const next = plugin.reflect(prev, exp, ctx, env).next
      holds(hashValue([prev, exp]) === before, "does not mutate its input", () => at("the previous insights or the experience changed during the call"))
      holds(next.problemId === "p", "well-formed", () => at(`returned the insights of problem ${next.problemId}`))
      const all = [...next.strategies, ...next.lessons]
      for (const i of next.strategies) holds(i.kind === "strategy" && i.problemId === "p", "well-formed", () => at(`strategy ${i.id} has kind ${i.kind}, problem ${i.problemId}`))
      for (const i of next.lessons) holds(i.kind === "lesson" && i.problemId === "p", "well-formed", () => at(`lesson ${i.id} has kind ${i.kind}, problem ${i.problemId}`))
      holds(new Set(all.map((i) => i.id)).size === all.length, "well-formed", () => at("two insights share an id"))
      const cap = c.insight.maxPerKind
      holds(next.strategies.length <= cap && next.lessons.length <= cap, "caps", () => at(`${next.strategies.length} strategies and ${next.lessons.length} lessons, the cap is ${cap} per kind`))
      for (const i of all) {
        holds(i.sources.rolloutIds.length > 0, "provenance complete", () => at(`${i.id} has no source rollout`))
        for (const r of i.sources.rolloutIds) holds(offered.has(r), "provenance complete", () => at(`${i.id} cites rollout ${r}, which was never offered to this problem`))
      }
      const now = new Map(all.map((i) => [i.id, i]))
      for (const old of [...prev.strategies, ...prev.lessons]) {
        const i = now.get(old.id)
        holds(i !== undefined, "monotone", () => at(`insight ${old.id} was dropped (insights accumulate)`))
        holds(i!.support >= old.support, "monotone", () => at(`${old.id}: support went from ${old.support} to ${i!.support}`))
        const src = new Set(i!.sources.rolloutIds)
        for (const r of old.sources.rolloutIds) holds(src.has(r), "monotone", () => at(`${old.id} lost source rollout ${r}`))
      }
      const again = plugin.reflect(structuredClone(prev), structuredClone(exp), ctx, env).next
      holds(hashValue(again) === hashValue(next), "determinism", () => at(`the same input gave two results:\n${showInsights(next)}\n  then:\n${showInsights(again)}`))
      plugin.reflect(emptyInsights("q"), renamed(exp, "q"), ctx, env)
      const other = plugin.reflect(prev, exp, ctx, env).next
      holds(hashValue(other) === hashValue(next), "independence from input order", () =>
        at(`reflecting problem p after problem q changed p's insights:\n${showInsights(next)}\n  after q:\n${showInsights(other)}`))
      prev = next
    })
  }, renderCase, 200, opts)
}
