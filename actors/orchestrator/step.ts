/**
 * One training step as a straight line of typed requests (ARCHITECTURE.md §8):
 * orchestrator -> policy (sample) -> verifier pool -> memory (experience, reflector, consolidator) ->
 * teacher (memory-conditioned scores) -> policy (update).
 *
 * Determinism: problems come from the seeded epoch schedule, prompts and rollouts from streams keyed
 * by (step, problem, rollout), verdicts are keyed by rollout id, and every merge is in id order. The
 * wall-clock stage timings are measured on Effect's Clock and reported, never hashed.
 */
import { Clock, Effect } from "effect"
import type { RunConfig } from "../../src/config/RunConfig.ts"
import { hashValue } from "../../src/core/Hash.ts"
import { Rng } from "../../src/core/Rng.ts"
import type { Domain, ProblemBase } from "../../src/domains/Domain.ts"
import type { MempOutcome } from "../../src/memory/memp/memp.ts"
import type { RolloutGroup } from "../../src/memory/pipeline.ts"
import type { UpdateRow } from "../../src/protocol/policy.ts"
import type { ContextKind, TeachItem } from "../../src/protocol/teacher.ts"
import type { VerifyResult } from "../../src/protocol/verifier.ts"
import { batchAt } from "./batches.ts"
import { teacherDiagnostics } from "./diagnostics.ts"
import { recallPicks, recallRows } from "./recall.ts"
import { rehearsalRows } from "./rehearsal.ts"
import { replayRows } from "./replay.ts"
import type { MemoryRead, Ports, PrefetchBatch } from "./ports.ts"

export type Outcome = MempOutcome & { readonly behaviorId?: string }

/** What the loop carries from step to step (checkpointed). */
export interface LoopState {
  readonly step: number
  readonly policyVersion: number
  readonly everSolved: ReadonlyArray<string>
  readonly pendingOutcomes: ReadonlyArray<Outcome>
}

export interface StepResult {
  readonly state: LoopState
  readonly metrics: {
    readonly rewardMean: number
    readonly loss: number
    readonly gradNorm: number
    readonly entropy: number
    readonly teacherFraction: number
    readonly memoryVersionRead: number
    readonly memoryVersionNewest: number
    readonly rolloutPolicyVersion: number
    readonly rolloutLag: number
    readonly rollouts: number
    readonly tokens: number
    readonly discarded: number
    readonly verifyFailed: number
  }
  readonly stageMs: Record<string, number>
  /** teacher diagnostics (diagnostics.ts): reported in the train row, never hashed; absent without a teacher */
  readonly diagnostics?: Record<string, number | null>
  /** digests of what each actor produced this step (journal "message" entries) */
  readonly digests: Readonly<Record<string, string>>
  /** what each rollout's teacher context held (the run's lineage.jsonl; never hashed) */
  readonly lineage: StepLineage
}

/** One rollout of the step, with what its teacher context held (lineage). */
export interface RolloutLineage {
  readonly id: string
  readonly problemId: string
  readonly reward: number
  /** the verifier's verdict (train protocol): the student's own, memory-free success */
  readonly solved: boolean
  readonly policyVersion: number
  /** what the teacher context rested on; null when no teacher ran this step (GRPO, a frozen policy) */
  readonly kind: ContextKind | null
  /** ids of the memory items in the context, all read from `StepLineage.read` */
  readonly refs: ReadonlyArray<string>
}

/** The step's lineage: the memory version the teacher read (null without memory) and every rollout. */
export interface StepLineage {
  readonly read: { readonly seq: number; readonly id: string } | null
  readonly rollouts: ReadonlyArray<RolloutLineage>
}

export const usesMemory = (cfg: RunConfig): boolean => cfg.method !== "grpo" && cfg.method !== "sdpo"
/** Frozen-Memory + Evolving Policy first builds its memory with a frozen policy, then freezes it and trains. */
export const trainsPolicy = (cfg: RunConfig, step: number): boolean =>
  cfg.method !== "frozen-policy" && !(cfg.method === "frozen-memory" && step < cfg.memory.frozenAfterSteps)

interface Rollout {
  readonly id: string
  readonly problemId: string
  readonly index: number
  readonly prompt: ReadonlyArray<number>
  readonly response: ReadonlyArray<number>
  readonly oldLogp: Float32Array
  readonly policyVersion: number
  readonly lag: number
}

const timed = <A, E, R>(stage: string, into: Record<string, number>, eff: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const t0 = yield* Clock.currentTimeMillis
    const a = yield* eff
    into[stage] = (into[stage] ?? 0) + (yield* Clock.currentTimeMillis) - t0
    return a
  })

export const rolloutId = (step: number, problemId: string, k: number): string =>
  `s${String(step).padStart(6, "0")}/${problemId}/r${String(k).padStart(3, "0")}`

/**
 * Per-problem rollout lag for async runs (`async.lagSchedule`): drawn in [0, staleness] keyed by (step,
 * problem), or always `staleness`; never more than the updates made so far.
 */
export const lagOf = (cfg: RunConfig, step: number, problemId: string, policyVersion: number): number => {
  if (cfg.async.staleness === 0) return 0
  const lag = cfg.async.lagSchedule === "fixed" ? cfg.async.staleness : Rng.root(cfg.seed).fork("staleness", step, problemId).int(0, cfg.async.staleness)
  return Math.min(policyVersion, lag)
}

/** Step t's problems, their prompts, and its sample requests grouped by rollout lag (ascending). */
export const samplePlan = (cfg: RunConfig, domain: Domain<ProblemBase>, trainIds: ReadonlyArray<string>, t: number, policyVersion: number) => {
  const ids = batchAt(cfg.seed, trainIds, cfg.batchProblems, t)
  const prompts = new Map(ids.map((id) => [id, domain.prompt(domain.problem(id), Rng.root(cfg.seed).fork("visit", t, id))]))
  const byLag = new Map<number, Array<string>>()
  for (const id of ids) {
    const lag = lagOf(cfg, t, id, policyVersion)
    byLag.set(lag, [...(byLag.get(lag) ?? []), id])
  }
  const groups = [...byLag.keys()].sort((a, b) => a - b).map((lag) => {
    const group = byLag.get(lag)!
    const requests = group.flatMap((id) => Array.from({ length: cfg.groupSize }, (_, k) => ({ prompt: prompts.get(id)!, key: ["rollout", t, id, k] as const })))
    return { lag, ids: group, requests }
  })
  return { ids, prompts, groups }
}

/**
 * Step t's sample batches that can be drawn before the update that precedes it: those whose policy
 * version (the version step t will have, minus the lag) exists now. A guess about that version only
 * costs time: the policy hands a prefetch only to the request that asks for exactly its weights.
 */
const prefetchable = (cfg: RunConfig, domain: Domain<ProblemBase>, trainIds: ReadonlyArray<string>, t: number, versionThen: number, versionNow: number): Array<PrefetchBatch> =>
  samplePlan(cfg, domain, trainIds, t, versionThen).groups
    .filter((g) => versionThen - g.lag <= versionNow)
    .map((g) => ({ requests: g.requests, maxNewTokens: domain.maxResponseTokens, version: versionThen - g.lag, greedy: false }))

/**
 * Pipelined execution: step t + 1's rollouts whose version exists already are queued as background work
 * right after step t's sampling (actors/policy/background.ts): idle workers start on them at once, and
 * any thread that would wait for another takes a chunk. `updates`: whether step t is expected to update
 * (a wrong guess only costs time: the prefetch is then not taken).
 */
const prefetchNext = (ports: Ports, cfg: RunConfig, domain: Domain<ProblemBase>, trainIds: ReadonlyArray<string>, t: number, version: number, updates: boolean) =>
  cfg.async.execution === "pipelined" && t + 1 < cfg.steps
    ? ports.prefetch(prefetchable(cfg, domain, trainIds, t + 1, version + (updates ? 1 : 0), version))
    : Effect.void

export const runStep = (
  ports: Ports,
  cfg: RunConfig,
  domain: Domain<ProblemBase>,
  trainIds: ReadonlyArray<string>,
  state: LoopState
): Effect.Effect<StepResult> =>
  Effect.gen(function*() {
    const t = state.step
    const stageMs: Record<string, number> = {}
    const { ids, prompts, groups } = samplePlan(cfg, domain, trainIds, t, state.policyVersion)

    // 1. rollouts, grouped by the policy version they come from (async staleness pins it per problem)
    const rollouts: Array<Rollout> = []
    for (const { lag, ids: group, requests } of groups) {
      const reply = yield* timed("sample", stageMs, ports.sample({ requests, maxNewTokens: domain.maxResponseTokens, lag, greedy: false }))
      group.forEach((id, g) => {
        for (let k = 0; k < cfg.groupSize; k++) {
          const r = reply.results[g * cfg.groupSize + k]!
          rollouts.push({ id: rolloutId(t, id, k), problemId: id, index: k, prompt: prompts.get(id)!, response: r.tokens, oldLogp: r.logProbs, policyVersion: reply.policyVersion, lag })
        }
      })
    }
    rollouts.sort((a, b) => (a.id < b.id ? -1 : 1))
    yield* prefetchNext(ports, cfg, domain, trainIds, t, state.policyVersion, trainsPolicy(cfg, t))

    // 2. verification (train protocol: code uses half of each problem's tests)
    const results = yield* timed("verify", stageMs, ports.verify(rollouts.map((r) => ({ rolloutId: r.id, problemId: r.problemId, protocol: "train" as const, response: [...r.response] }))))
    const verdictOf = new Map<string, VerifyResult>(results.map((v) => [v.rolloutId, v]))
    const reward = (id: string) => { const v = verdictOf.get(id)!; return v._tag === "Verified" ? v.verdict.reward : 0 }
    const feedback = (id: string) => { const v = verdictOf.get(id)!; return v._tag === "Verified" ? v.verdict.feedback : [] }
    const solved = (id: string) => { const v = verdictOf.get(id)!; return v._tag === "Verified" && v.verdict.solved }

    // 3. memory: experience (sync), reflection, consolidation on the slow clock
    let memory: MemoryRead | null = null
    let newestSeq = -1
    if (usesMemory(cfg)) {
      const frozenNow = cfg.method === "frozen-memory" && t >= cfg.memory.frozenAfterSteps
      const groups: Array<RolloutGroup> = ids.map((id) => ({
        problemId: id,
        attempts: rollouts.filter((r) => r.problemId === id).map((r) => ({
          response: r.response, feedback: feedback(r.id), success: solved(r.id),
          prov: { rolloutId: r.id, policyVersion: r.policyVersion, step: t, reward: reward(r.id) }
        }))
      }))
      const status = yield* timed("memory", stageMs, frozenNow
        ? ports.freezeMemory
        : ports.remember({
          groups, step: t, policyVersion: state.policyVersion, fresh: cfg.method === "pmd-transient",
          consolidate: cfg.method === "pmd-transient" || (t + 1) % cfg.memory.behaviorEvery === 0,
          outcomes: state.pendingOutcomes
        }))
      newestSeq = status.newest.seq
      memory = yield* ports.readMemory(cfg.memory.lag)
    }

    // 4. teacher (not for GRPO, nor for a policy that never learns)
    const items: Array<TeachItem> = rollouts.map((r) => ({
      rolloutId: r.id, problemId: r.problemId, index: r.index, prompt: r.prompt, response: r.response, reward: reward(r.id), feedback: feedback(r.id)
    }))
    const needsTeacher = cfg.method !== "grpo" && trainsPolicy(cfg, t)
    const taught = needsTeacher ? yield* timed("teacher", stageMs, ports.teach({ items, memory, step: t })) : null
    // what each rollout's teacher context rested on, and where it pulled the student (reported only)
    const diagnostics = taught === null ? undefined : teacherDiagnostics(rollouts.map((r, i) => ({
      kind: taught.kinds[i]!, success: reward(r.id) >= cfg.sdpo.successThreshold, response: r.response, sampleLogp: r.oldLogp,
      teacherLogp: taught.teacherLogp[i] ?? null
    })))

    // 5. update (async: rollouts older than maxStaleness are discarded, or kept with IS correction)
    const keep = rollouts.map((r) => !(cfg.async.correction === "discard" && r.lag > cfg.async.maxStaleness))
    const rows: Array<UpdateRow> = []
    rollouts.forEach((r, i) => {
      if (!keep[i]) return
      rows.push({
        prompt: r.prompt, response: r.response, oldLogp: [...r.oldLogp], reward: reward(r.id),
        group: ids.indexOf(r.problemId), teacherLogp: taught?.teacherLogp[i] ?? null
      })
    })
    // memory.replaySolutions: a stored success joins the group of a problem this step did not solve (replay.ts)
    const stored = cfg.memory.replaySolutions === true && memory !== null
      ? new Map((yield* ports.views(memory, ids.map((id) => ({ problemId: id, stream: { seed: cfg.seed, key: ["replay", t, id] } })))).map((v) => [v.problemId, v.view]))
      : null
    const replay = stored !== null
      ? replayRows(ids.map((id, g) => ({
        problemId: id, group: g, prompt: prompts.get(id)!, solvedNow: rollouts.some((r) => r.problemId === id && solved(r.id)),
        successes: stored.get(id)?.experience?.successes ?? []
      })))
      : []
    for (const { replayOf: _, ...row } of replay) rows.push(row)
    // memory.rehearsal: this step's solutions, learned under their memory-augmented prompts too (rehearsal.ts)
    const rehearsalWeight = cfg.memory.rehearsal ?? 0
    const rehearsed = rehearsalWeight > 0 && memory !== null && trainsPolicy(cfg, t)
      ? rehearsalRows(cfg, (yield* ports.views(memory, ids.map((id) => ({ problemId: id, stream: { seed: cfg.seed, key: ["rehearsal", t, id] } })))).map((v) => ({
        prompt: prompts.get(v.problemId)!, view: v.view,
        solutions: rollouts.filter((r) => r.problemId === v.problemId && solved(r.id)).map((r) => r.response)
      })))
      : null
    // memory.recall: stored successes of problems solved before and not in this batch, learned memory-free (recall.ts)
    const recallCount = cfg.memory.recall ?? 0
    const recalled = recallCount > 0 && memory !== null && trainsPolicy(cfg, t)
      ? recallRows((yield* ports.views(memory, recallPicks(cfg.seed, t, state.everSolved, ids, recallCount).map((id) => ({
        problemId: id, stream: { seed: cfg.seed, key: ["recall", t, id] }
      })))).map((v) => ({
        prompt: domain.prompt(domain.problem(v.problemId), Rng.root(cfg.seed).fork("recall", t, v.problemId)),
        successes: v.view.experience?.successes ?? []
      })))
      : null
    let upd = { loss: 0, gradNorm: 0, policyVersion: state.policyVersion }
    const updates = trainsPolicy(cfg, t) && rows.length > 0
    if (updates) {
      upd = yield* timed("update", stageMs, ports.update({
        rows, kind: cfg.method === "grpo" ? "grpo" : "distill", importance: cfg.async.staleness > 0,
        ...(rehearsed === null ? {} : { rehearsal: { rows: rehearsed, weight: rehearsalWeight } }),
        ...(recalled === null ? {} : { recall: { rows: recalled, weight: cfg.memory.recallWeight ?? 0.5 } })
      }))
    }
    const sub = rollouts.slice(0, 32)
    const entropy = yield* timed("entropy", stageMs, ports.entropy(sub.map((r) => r.prompt), sub.map((r) => r.response)))

    const outcomes: Array<Outcome> = rollouts.map((r, i) => {
      const top = taught?.topBehavior[i] ?? null
      return {
        problemId: r.problemId, query: r.prompt, response: r.response, success: solved(r.id),
        prov: { rolloutId: r.id, policyVersion: r.policyVersion, step: t, reward: reward(r.id) },
        ...(top === null ? {} : { usedId: top, behaviorId: top })
      }
    })
    const everSolved = [...new Set([...state.everSolved, ...rollouts.filter((r) => solved(r.id)).map((r) => r.problemId)])].sort()
    const rewardSum = rollouts.reduce((a, r) => a + reward(r.id), 0)
    const minVersion = Math.min(...rollouts.map((r) => r.policyVersion))
    return {
      state: { step: t + 1, policyVersion: upd.policyVersion, everSolved, pendingOutcomes: usesMemory(cfg) ? outcomes : [] },
      metrics: {
        rewardMean: rewardSum / rollouts.length,
        loss: upd.loss,
        gradNorm: upd.gradNorm,
        entropy,
        teacherFraction: taught === null ? 0 : taught.teacherLogp.filter((x) => x !== null).length / rollouts.length,
        memoryVersionRead: memory?.seq ?? -1,
        memoryVersionNewest: newestSeq,
        rolloutPolicyVersion: minVersion,
        rolloutLag: state.policyVersion - minVersion,
        rollouts: rollouts.length,
        tokens: rollouts.reduce((a, r) => a + r.response.length, 0),
        discarded: keep.filter((k) => !k).length,
        verifyFailed: results.filter((v) => v._tag === "VerifyFailed").length
      },
      stageMs,
      ...(diagnostics === undefined ? {} : {
        diagnostics: {
          ...diagnostics,
          ...(cfg.memory.replaySolutions === true ? { replayRows: replay.length } : {}),
          ...(rehearsed === null ? {} : { rehearsalRows: rehearsed.length }),
          ...(recalled === null ? {} : { recallRows: recalled.length })
        }
      }),
      digests: {
        policy: hashValue(rollouts.map((r) => [r.id, r.response, r.oldLogp, r.policyVersion])),
        verifier: hashValue(results),
        memory: hashValue([memory?.id ?? null, newestSeq]),
        teacher: hashValue(taught === null ? null : taught.teacherLogp),
        update: hashValue([upd.loss, upd.gradNorm, upd.policyVersion])
      },
      lineage: {
        read: memory === null ? null : { seq: memory.seq, id: memory.id },
        rollouts: rollouts.map((r, i) => ({
          id: r.id, problemId: r.problemId, reward: reward(r.id), solved: solved(r.id), policyVersion: r.policyVersion,
          kind: taught === null ? null : taught.kinds[i]!, refs: taught?.refs[i] ?? []
        }))
      }
    }
  })
