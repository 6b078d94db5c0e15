/**
 * fast-check arbitraries for procedural memory: rollout groups with verdicts and feedback, experiences,
 * insights, behavior banks, consolidator inputs, memory snapshots and step sequences. Token sequences
 * use a small alphabet (ids 16..23) so that random rollouts share n-grams: reflection finds patterns,
 * the near-duplicate gates fire, clusters form.
 *
 * Rollout ids are positional in the structured arbitraries (`s<step>/<problem>/r<i>`), so a shrunk
 * counterexample reads the same on every run; `attempts` numbers its ids process-wide instead, for tests
 * that feed several of its batches into one memory.
 */
import * as fc from "fast-check"
import { compareStrings } from "../core/Order.ts"
import { type BehaviorBank, emptyBank } from "../memory/behavior/behavior.ts"
import { consolidate, type ConsolidateConfig, defaultConsolidateConfig } from "../memory/behavior/consolidate.ts"
import { recordUses } from "../memory/behavior/usage.ts"
import { type Embedder, makeHashEmbedder } from "../memory/embed/hashEmbed.ts"
import { type Attempt, emptyExperience, type ExperienceConfig, type ProblemExperience, updateExperience } from "../memory/experience/experience.ts"
import type { Insight, ProblemInsights } from "../memory/insight/insights.ts"
import { consolidateMemory, recordRollouts, reflectProblems, type RolloutGroup } from "../memory/pipeline.ts"
import { emptyMemory, type MemoryState } from "../memory/state.ts"

/** The embedder of the kit (32 dimensions: fast; one per process, building it is the costly part). */
export const testEmbedder: Embedder = makeHashEmbedder({ dim: 32, buckets: 256, maxN: 3, seed: "test" })

/** Token ids from the small alphabet 16..23. */
export const tokens = (min = 1, max = 8): fc.Arbitrary<Array<number>> =>
  fc.array(fc.integer({ min: 16, max: 23 }), { minLength: min, maxLength: max })

/** One rollout's content: response, verifier verdict, feedback tokens (failures) and reward. */
export interface RolloutSpec {
  readonly response: ReadonlyArray<number>
  readonly feedback: ReadonlyArray<number>
  readonly success: boolean
  readonly reward: number
}

export const rollout = (): fc.Arbitrary<RolloutSpec> =>
  fc.record({ response: tokens(), feedback: tokens(0, 4), success: fc.boolean(), reward: fc.double({ min: 0, max: 1, noNaN: true }) })

/** A rollout as memory receives it (a successful one has reward 1, a failed one below 0.5). */
export const toAttempt = (r: RolloutSpec, rolloutId: string, step = 1, policyVersion = 1): Attempt => ({
  response: [...r.response], feedback: [...r.feedback], success: r.success,
  prov: { rolloutId, policyVersion, step, reward: r.success ? 1 : r.reward * 0.5 }
})

let counter = 0
/** A batch of attempts with rollout ids unique across the whole process (`r00000042`). */
export const attempts = (max = 10): fc.Arbitrary<Array<Attempt>> =>
  fc.array(rollout(), { maxLength: max }).map((xs) => xs.map((x) => toAttempt(x, `r${String(counter++).padStart(8, "0")}`)))

/** A group of rollouts of one problem, ids `<prefix>/<problemId>/r<i>`. */
export const rolloutGroup = (problemId: string, opts: { readonly prefix?: string; readonly maxAttempts?: number; readonly step?: number } = {}): fc.Arbitrary<RolloutGroup> =>
  fc.array(rollout(), { maxLength: opts.maxAttempts ?? 8 }).map((rs) => ({
    problemId,
    attempts: rs.map((r, i) => toAttempt(r, `${opts.prefix ?? "s0"}/${problemId}/r${i}`, opts.step ?? 0, opts.step ?? 0))
  }))

/** Groups for a subset of `problemIds` (each at most once), as one step's batch. */
export const rolloutGroups = (problemIds: ReadonlyArray<string>, opts: { readonly prefix?: string; readonly maxAttempts?: number; readonly step?: number } = {}): fc.Arbitrary<Array<RolloutGroup>> =>
  fc.subarray([...problemIds]).chain((ids) => fc.tuple(...ids.map((id) => rolloutGroup(id, opts)))).map((gs) => [...gs])

/** A problem's experience after up to `batches` batches of rollouts through the built-in experience memory. */
export const experience = (opts: { readonly problemId?: string; readonly batches?: number; readonly config?: ExperienceConfig; readonly embed?: Embedder } = {}): fc.Arbitrary<ProblemExperience> => {
  const id = opts.problemId ?? "p"
  return fc.array(fc.array(rollout(), { maxLength: 8 }), { minLength: 1, maxLength: opts.batches ?? 3 }).map((batches) =>
    batches.reduce((e, b, step) => updateExperience(e, b.map((r, i) => toAttempt(r, `s${step}/${id}/r${i}`, step, step)), opts.embed ?? testEmbedder, opts.config).next, emptyExperience(id)))
}

/** A synthetic insight of `problemId` (content from the small alphabet, sources from the pool r000..r030). */
export const insight = (problemId: string, kind: "strategy" | "lesson"): fc.Arbitrary<Insight> =>
  fc.record({ t: tokens(2, 4), r: fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 3 }) }).map(({ t, r }) => ({
    id: `ins-${problemId}-${kind}-${t.join(".")}`, problemId, kind, tokens: t, feedback: [], contrastive: false, confidence: 0.5, support: 1,
    sources: { rolloutIds: [...new Set(r.map((x) => `r${String(x).padStart(3, "0")}`))].sort(compareStrings), policyVersion: 1, step: 1 }
  }))

const distinctContent = (xs: ReadonlyArray<Insight>): Array<Insight> => [...new Map(xs.map((x) => [x.tokens.join(","), x])).values()]

/** A problem's insights: up to 3 strategies and 2 lessons, distinct contents. */
export const problemInsights = (problemId: string): fc.Arbitrary<ProblemInsights> =>
  fc.record({ s: fc.array(insight(problemId, "strategy"), { maxLength: 3 }), l: fc.array(insight(problemId, "lesson"), { maxLength: 2 }) })
    .map(({ s, l }) => ({ problemId, strategies: distinctContent(s), lessons: distinctContent(l) }))

/** A training problem as a consolidator sees it: id, fixed embedding, and the prompt tokens it was embedded from. */
export interface EmbeddedProblem {
  readonly id: string
  readonly vec: Float32Array
  readonly tokens: ReadonlyArray<number>
}

/** Three latent prompt templates: problems built from the same one are near each other, so clusters form. */
const TEMPLATES = [[30, 31, 32, 33], [40, 41, 42, 43], [50, 51, 52, 53]] as const

/** What a consolidator reads besides the bank: problems (`p<i>`, from 2-3 templates) and their insights. */
export interface ConsolidationInput {
  readonly problems: ReadonlyArray<EmbeddedProblem>
  readonly insights: ReadonlyArray<ProblemInsights>
}

export const consolidationInput = (opts: { readonly maxProblems?: number; readonly embed?: Embedder; readonly prefix?: string } = {}): fc.Arbitrary<ConsolidationInput> =>
  fc.array(fc.record({ template: fc.integer({ min: 0, max: 2 }), noise: tokens(0, 2), s: fc.array(insight("_", "strategy"), { maxLength: 3 }), l: fc.array(insight("_", "lesson"), { maxLength: 2 }) }),
    { minLength: 1, maxLength: opts.maxProblems ?? 8 }).map((ps) => {
    const embed = opts.embed ?? testEmbedder
    const prefix = opts.prefix ?? "p"
    const problems = ps.map((p, i) => {
      const t = [...TEMPLATES[p.template]!, ...p.noise]
      return { id: `${prefix}${i}`, vec: embed(t), tokens: t }
    })
    const own = (id: string, xs: ReadonlyArray<Insight>) => distinctContent(xs).map((x) => ({ ...x, problemId: id, id: x.id.replace("ins-_-", `ins-${id}-`) }))
    const insights = ps.map((p, i) => ({ problemId: `${prefix}${i}`, strategies: own(`${prefix}${i}`, p.s), lessons: own(`${prefix}${i}`, p.l) }))
    return { problems, insights }
  })

/**
 * A behavior bank as the built-in consolidator builds it from a consolidation input, with Memp usage
 * recorded on it (hits and successes, so deprecation and usage-based rules have something to act on).
 */
export const behaviorBank = (opts: { readonly config?: Partial<ConsolidateConfig>; readonly embed?: Embedder } = {}): fc.Arbitrary<BehaviorBank> =>
  fc.tuple(consolidationInput({ ...opts, prefix: "q" }), fc.array(fc.tuple(fc.nat(20), fc.boolean()), { maxLength: 12 })).map(([input, uses]) => {
    const bank = consolidate({ ...input, bank: emptyBank, ctx: { step: 1, policyVersion: 1 } }, opts.embed ?? testEmbedder, { ...defaultConsolidateConfig, ...opts.config }).bank
    const bs = bank.behaviors
    return bs.length === 0 ? bank : recordUses(bank, uses.map(([k, success]) => ({ behaviorId: bs[k % bs.length]!.id, success })))
  })

/** One step of a memory pipeline: rollout groups for some problems, whether to consolidate, and behavior uses. */
export interface MemoryStep {
  readonly groups: ReadonlyArray<RolloutGroup>
  readonly consolidate: boolean
  /** (index into the bank's behaviors at the time, modulo its size; did the student then succeed) */
  readonly uses: ReadonlyArray<readonly [number, boolean]>
}

/** Step sequences over the problems `problemIds` (rollout ids `s<step>/<problem>/r<i>`). */
export const stepSequence = (problemIds: ReadonlyArray<string>, opts: { readonly maxSteps?: number; readonly maxAttempts?: number } = {}): fc.Arbitrary<Array<MemoryStep>> =>
  fc.integer({ min: 1, max: opts.maxSteps ?? 4 }).chain((n) =>
    fc.tuple(...Array.from({ length: n }, (_, step) =>
      fc.record({
        groups: rolloutGroups(problemIds, { prefix: `s${step}`, step, ...(opts.maxAttempts === undefined ? {} : { maxAttempts: opts.maxAttempts }) }),
        consolidate: fc.boolean(),
        uses: fc.array(fc.tuple(fc.nat(10), fc.boolean()), { maxLength: 4 })
      })))).map((steps) => [...steps])

/** The memory after a step sequence through the built-in pipeline (experience, reflection, consolidation, uses). */
export const memorySnapshot = (opts: { readonly problems?: number; readonly embed?: Embedder } = {}): fc.Arbitrary<MemoryState> => {
  const embed = opts.embed ?? testEmbedder
  const ids = Array.from({ length: opts.problems ?? 3 }, (_, i) => `p${i}`)
  const vecs = ids.map((id, i) => ({ id, vec: embed([...TEMPLATES[i % 2]!, 16 + i]) }))
  return stepSequence(ids).map((steps) => steps.reduce((state, s, step) => {
    const ctx = { step, policyVersion: step }
    let next = recordRollouts(state, s.groups, embed).state
    next = reflectProblems(next, s.groups.map((g) => g.problemId), embed, ctx).state
    if (s.consolidate) next = consolidateMemory(next, vecs, embed, ctx, { ...defaultConsolidateConfig, capacity: 8 }).state
    const bs = next.bank.behaviors
    return bs.length === 0 || s.uses.length === 0 ? next : { ...next, bank: recordUses(next.bank, s.uses.map(([k, success]) => ({ behaviorId: bs[k % bs.length]!.id, success }))) }
  }, emptyMemory))
}

/** A deterministic shuffle (LCG over `seed`), for order-independence properties. */
export const shuffled = <A>(xs: ReadonlyArray<A>, seed: number): Array<A> => {
  const out = [...xs]
  let s = seed >>> 0
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    const j = s % (i + 1)
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}
