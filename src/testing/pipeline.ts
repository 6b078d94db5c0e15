/**
 * checkMemoryPipeline: the whole memory pipeline of a run (the MemoryKeeper: experience, reflection,
 * consolidation, behavior usage, versioned snapshots, pinned reads) with some plug-ins swapped in, over
 * random step sequences. After every step, in this order:
 *
 * 1. caps: <= successesMax successes and <= failuresMax failures per problem, <= insightsMax insights
 *    per kind, <= bankCapacity behaviors;
 * 2. provenance complete: every experience item, insight and behavior traces to rollouts that were
 *    offered (and behaviors to known problems);
 * 3. no success lost below the caps: while a problem holds fewer than successesMax successes it keeps
 *    every one it held, and it stores every offered success that is no near-duplicate of another;
 * 4. monotone versions: each commit's version number is above the last, each version's parent is the one before;
 * 5. retrieval: a teacher pinned at version newest - lag (lag 0..2) gets at most K behaviors, all from
 *    that version, and that version's experience and insights;
 * and over the whole sequence:
 * 6. snapshots read back: every version checks out to exactly the memory committed under it;
 * 7. determinism: the same steps give the same version ids;
 * 8. independence from input order: the batches' groups and rollouts in another order give the same version ids.
 */
import * as fc from "fast-check"
import { type MemoryKeeper, memoryKeeper, type ProblemKey } from "../../actors/memory/index.ts"
import { tinyConfig } from "../config/presets.ts"
import type { RunConfig } from "../config/RunConfig.ts"
import { hashValue } from "../core/Hash.ts"
import { Rng } from "../core/Rng.ts"
import type { Embedder } from "../memory/embed/hashEmbed.ts"
import { dot } from "../memory/embed/vec.ts"
import { emptyExperience } from "../memory/experience/experience.ts"
import type { RolloutGroup } from "../memory/pipeline.ts"
import { VersionedMemory } from "../memory/versioned.ts"
import { builtinMemoryPlugins } from "../plugins/builtins.ts"
import type { ConsolidatorPlugin, MemoryPlugins, ReflectorPlugin, RetrieverPlugin } from "../plugins/types.ts"
import { type MemoryStep, shuffled, stepSequence, testEmbedder } from "./arbitraries.ts"
import { Broken, type BatteryOptions, type BatteryReport, holds, runBattery } from "./battery.ts"
import { showGroups } from "./render.ts"

export const PIPELINE_INVARIANTS = [
  "caps", "provenance complete", "no success lost below the caps", "monotone versions", "retrieval returns at most K items of the pinned version",
  "snapshots read back", "determinism", "independence from input order"
] as const

/** Four problems from two latent templates (ids p0..p3): their prompts are what memory embeds. */
const PROBLEMS: ReadonlyArray<ProblemKey> = [0, 1, 2, 3].map((i) => ({ id: `p${i}`, query: [...(i % 2 === 0 ? [30, 31, 32, 33] : [40, 41, 42, 43]), 16 + i] }))

export interface PipelineCase {
  readonly memory: Pick<RunConfig["memory"], "duplicateSimilarity" | "insightsMax" | "bankCapacity" | "behaviorTopK" | "retrieval">
  readonly steps: ReadonlyArray<MemoryStep>
  readonly shuffleSeed: number
}

export const pipelineCase = (): fc.Arbitrary<PipelineCase> =>
  fc.record({
    memory: fc.record({
      duplicateSimilarity: fc.double({ min: 0.8, max: 1, noNaN: true }),
      insightsMax: fc.integer({ min: 1, max: 6 }),
      bankCapacity: fc.integer({ min: 1, max: 8 }),
      behaviorTopK: fc.integer({ min: 1, max: 3 }),
      retrieval: fc.constantFrom<"query" | "random">("query", "random")
    }),
    steps: stepSequence(PROBLEMS.map((p) => p.id), { maxSteps: 4, maxAttempts: 6 }),
    shuffleSeed: fc.integer()
  })

const renderCase = (c: PipelineCase): string =>
  [`  memory: ${JSON.stringify(c.memory)}, shuffle seed ${c.shuffleSeed}`, `  problems: ${PROBLEMS.map((p) => `${p.id} [${p.query.join(" ")}]`).join(", ")}`,
    ...c.steps.flatMap((s, i) => [`  step ${i}: consolidate ${s.consolidate}, uses ${JSON.stringify(s.uses)}`, showGroups(s.groups, "    ")])].join("\n")

const configOf = (c: PipelineCase): RunConfig => ({
  ...tinyConfig,
  memory: { ...tinyConfig.memory, ...c.memory, levels: "EIB", update: "pmd", successesMax: 5, failuresMax: 3, lag: 0 }
})

/** Runs the steps through a fresh keeper; returns it and the newest version id after each step. */
const drive = (cfg: RunConfig, embed: Embedder, plugins: MemoryPlugins, steps: ReadonlyArray<MemoryStep>, each?: (k: MemoryKeeper, step: number, before: Snapshot) => void) => {
  const keeper = memoryKeeper(cfg, { embed, train: PROBLEMS, heldout: [], vm: new VersionedMemory(), plugins })
  const ids: Array<string> = []
  const committed = new Map<string, string>()
  steps.forEach((s, step) => {
    const ctx = { step, policyVersion: step }
    const before: Snapshot = { state: keeper.vm.state, seq: keeper.newest.seq }
    const bs = keeper.vm.state.bank.behaviors
    const outcomes = bs.length === 0 ? [] : s.uses.map(([k, success], i) => ({
      problemId: "p0", query: PROBLEMS[0]!.query, response: [16], success, behaviorId: bs[k % bs.length]!.id,
      prov: { rolloutId: `s${step}/use${i}`, policyVersion: step, step, reward: success ? 1 : 0 }
    }))
    const versions = [...keeper.recordOutcomes(outcomes, ctx), ...keeper.afterRollouts(s.groups, ctx, s.consolidate)]
    for (const v of versions) committed.set(v.id, hashValue(keeper.vm.checkout(v.id)))
    each?.(keeper, step, { ...before, versions: versions.map((v) => ({ id: v.id, seq: v.seq, parent: v.parent })) })
    ids.push(keeper.newest.id)
  })
  return { keeper, ids, committed }
}

interface Snapshot {
  readonly state: MemoryKeeper["vm"]["state"]
  readonly seq: number
  readonly versions?: ReadonlyArray<{ readonly id: string; readonly seq: number; readonly parent: string | null }>
}

/**
 * Checks the memory pipeline with `plugins` (each absent one is the built-in) on `numRuns` random step
 * sequences (default 100); throws an InvariantViolation with the shrunk counterexample when one breaks.
 */
export const checkMemoryPipeline = (
  plugins: { readonly consolidator?: ConsolidatorPlugin; readonly reflector?: ReflectorPlugin; readonly retriever?: RetrieverPlugin } = {},
  opts: BatteryOptions & { readonly embed?: Embedder } = {}
): BatteryReport => {
  const embed = opts.embed ?? testEmbedder
  const used: MemoryPlugins = { ...builtinMemoryPlugins, ...plugins }
  const subject = `consolidator ${used.consolidator.name}, reflector ${used.reflector.name}, retriever ${used.retriever.name}`
  return runBattery("checkMemoryPipeline", subject, PIPELINE_INVARIANTS, pipelineCase(), (c) => {
    const cfg = configOf(c)
    const m = cfg.memory
    const offered = new Set<string>()
    const problems = new Set(PROBLEMS.map((p) => p.id))
    let lastParent: string | null = null
    const run = drive(cfg, embed, used, c.steps, (k, step, before) => {
      const at = (d: string) => `after step ${step}: ${d}`
      const groups = c.steps[step]!.groups
      for (const g of groups) for (const a of g.attempts) offered.add(a.prov.rolloutId)
      const s = k.vm.state
      // 1. caps
      for (const e of s.experience.values()) {
        holds(e.successes.length <= m.successesMax && e.failures.length <= m.failuresMax, "caps", () => at(`${e.problemId} holds ${e.successes.length} successes and ${e.failures.length} failures (caps ${m.successesMax}, ${m.failuresMax})`))
      }
      for (const i of s.insights.values()) {
        holds(i.strategies.length <= m.insightsMax && i.lessons.length <= m.insightsMax, "caps", () => at(`${i.problemId} holds ${i.strategies.length} strategies and ${i.lessons.length} lessons (cap ${m.insightsMax})`))
      }
      holds(s.bank.behaviors.length <= m.bankCapacity, "caps", () => at(`the bank holds ${s.bank.behaviors.length} behaviors (capacity ${m.bankCapacity})`))
      // 2. provenance
      for (const e of s.experience.values()) for (const x of [...e.successes, ...e.failures]) holds(offered.has(x.prov.rolloutId), "provenance complete", () => at(`${e.problemId} stores rollout ${x.prov.rolloutId}, never offered`))
      for (const i of s.insights.values()) {
        for (const x of [...i.strategies, ...i.lessons]) {
          holds(x.sources.rolloutIds.length > 0, "provenance complete", () => at(`insight ${x.id} has no source`))
          for (const r of x.sources.rolloutIds) holds(offered.has(r), "provenance complete", () => at(`insight ${x.id} cites rollout ${r}, never offered`))
        }
      }
      for (const b of s.bank.behaviors) {
        holds(b.sources.rolloutIds.length > 0, "provenance complete", () => at(`behavior ${b.id} has no source`))
        for (const r of b.sources.rolloutIds) holds(offered.has(r), "provenance complete", () => at(`behavior ${b.id} cites rollout ${r}, never offered`))
        for (const p of b.problemIds) holds(problems.has(p), "provenance complete", () => at(`behavior ${b.id} names unknown problem ${p}`))
      }
      // 3. successes kept while there is room, and distinct ones stored
      for (const g of groups) {
        const was = before.state.experience.get(g.problemId) ?? emptyExperience(g.problemId)
        const now = s.experience.get(g.problemId) ?? emptyExperience(g.problemId)
        const kept = new Set(now.successes.map((x) => x.id))
        if (now.successes.length < m.successesMax) {
          for (const x of was.successes) holds(kept.has(x.id), "no success lost below the caps", () => at(`${g.problemId} lost success ${x.id} while holding ${now.successes.length} < ${m.successesMax}`))
        }
        const wins = g.attempts.filter((a) => a.success)
        const far = (a: { response: ReadonlyArray<number> }, others: ReadonlyArray<{ response: ReadonlyArray<number> }>) =>
          others.every((o) => o.response.join() !== a.response.join() && dot(embed(o.response), embed(a.response)) < m.duplicateSimilarity)
        const distinct = wins.filter((a) => far(a, was.successes) && far(a, wins.filter((b) => b !== a)))
        const want = Math.min(m.successesMax, was.successes.length + distinct.length)
        holds(now.successes.length >= want, "no success lost below the caps", () =>
          at(`${g.problemId} holds ${now.successes.length} successes; it held ${was.successes.length} and was offered ${distinct.length} distinct new ones (${distinct.map((a) => a.prov.rolloutId).join(", ")})`))
      }
      // 4. versions
      let seq = before.seq
      for (const v of before.versions ?? []) {
        holds(v.seq + 1 > seq, "monotone versions", () => at(`version ${v.id} has number ${v.seq + 1}, not above ${seq}`))
        holds(v.parent === lastParent, "monotone versions", () => at(`version ${v.id}'s parent is ${v.parent}, not the previous version ${lastParent}`))
        seq = v.seq + 1
        lastParent = v.id
      }
      // 5. pinned retrieval
      for (let lag = 0; lag <= 2; lag++) {
        const pin = k.lagged(lag)
        const pinned = pin.id === "empty" ? null : k.vm.checkout(pin.id)
        const bank = new Set((pinned?.bank.behaviors ?? []).map((b) => b.id))
        for (const p of PROBLEMS) {
          let view
          try {
            view = k.view(pin.id, p.id, Rng.root("battery").fork(step, lag, p.id)).view
          } catch (e) {
            // the keeper refuses a retriever's output that breaks the contract (PluginContractError)
            throw new Broken("retrieval returns at most K items of the pinned version", at(e instanceof Error ? e.message : String(e)))
          }
          const got = view.behaviors ?? []
          holds(got.length <= m.behaviorTopK && got.every((b) => b.id !== undefined && bank.has(b.id)), "retrieval returns at most K items of the pinned version",
            () => at(`at lag ${lag} (version ${pin.seq}) ${p.id} got ${got.map((b) => b.id).join(", ")}; K = ${m.behaviorTopK}, the version holds ${[...bank].join(", ") || "none"}`))
          holds(hashValue(view.experience ?? null) === hashValue(pinned?.experience.get(p.id) ?? null), "retrieval returns at most K items of the pinned version",
            () => at(`at lag ${lag} ${p.id}'s experience is not the pinned version's`))
        }
      }
    })
    // 6. every version reads back as committed
    for (const [id, h] of run.committed) holds(hashValue(run.keeper.vm.checkout(id)) === h, "snapshots read back", () => `version ${id} checks out to another memory than was committed`)
    // 7. determinism
    const again = drive(cfg, embed, used, structuredClone(c.steps) as Array<MemoryStep>)
    holds(again.ids.join() === run.ids.join(), "determinism", () => `the same steps gave the versions ${run.ids.join(", ")} then ${again.ids.join(", ")}`)
    // 8. order independence
    const reordered = c.steps.map((s, i) => ({ ...s, groups: shuffled(s.groups, c.shuffleSeed + i).map((g: RolloutGroup, j) => ({ ...g, attempts: shuffled(g.attempts, c.shuffleSeed + 31 * i + j) })) }))
    const other = drive(cfg, embed, used, reordered)
    holds(other.ids.join() === run.ids.join(), "independence from input order", () => `reordering groups and rollouts gave the versions ${other.ids.join(", ")} instead of ${run.ids.join(", ")}`)
  }, renderCase, 100, opts)
}
