/**
 * Wiring: the step's ports backed by supervised actors (`actorPorts`: policy, teacher, memory with its
 * reflector and consolidator, verifier pool, each a fiber with a bounded mailbox in the ambient ActorSystem), or by plain calls on
 * the same objects (`directPorts`: the baseline of bench/orchestrator/pipeline.bench.ts). The two
 * produce identical results; only scheduling differs.
 */
import { Effect, type Scope } from "effect"
import type { RunConfig } from "../../src/config/RunConfig.ts"
import * as ActorSystem from "../../src/runtime/ActorSystem.ts"
import type { DuplicateActor } from "../../src/runtime/Errors.ts"
import { expectTag } from "../../src/runtime/expectTag.ts"
import type { MemoryAnswer, MemoryKeeper } from "../memory/keeper.ts"
import { type Collaborators, expectMemory, memoryBehavior, type MemoryIn, memoryTransition } from "../memory/Memory.ts"
import { consolidatorBehavior } from "../consolidator/Consolidator.ts"
import { reflectorBehavior } from "../reflector/Reflector.ts"
import { expectOut, policyBehavior } from "../policy/Policy.ts"
import type { PolicyModel } from "../policy/PolicyModel.ts"
import { teach, teacherBehavior, type Viewer } from "../teacher/Teacher.ts"
import type { VerifierPool } from "../verifier/pool.ts"
import { verifierBehavior } from "../verifier/Verifier.ts"
import type { Ports } from "./ports.ts"

export interface PipelineParts {
  readonly cfg: RunConfig
  readonly model: PolicyModel
  readonly keeper: MemoryKeeper
  readonly freshKeeper: () => MemoryKeeper
  readonly pool: VerifierPool
}

/** An ask whose only failures are kernel failures (a stopped actor): those end the run as defects. */
const orDie = <A, E>(eff: Effect.Effect<A, E>): Effect.Effect<A> => Effect.orDie(eff)

export const actorPorts = (parts: PipelineParts): Effect.Effect<Ports, DuplicateActor, ActorSystem.ActorSystem | Scope.Scope> =>
  Effect.gen(function*() {
    const policy = yield* ActorSystem.spawn(policyBehavior(parts.model))
    // the reflector and consolidator start from the keeper's insights and bank (a resumed run's too)
    const k = parts.keeper
    // ... with the run's plug-ins (src/plugins), resolved from its config into the keeper
    const reflector = yield* ActorSystem.spawn(reflectorBehavior({ embed: k.embedder, insight: k.insightConfig, reflect: k.reflectEnv.reflect, initial: k.vm.state.insights, plugin: k.plugins.reflector }))
    const consolidator = yield* ActorSystem.spawn(consolidatorBehavior({
      embedProblem: k.problemEmbedder, embedContent: k.embedder, config: k.consolidateConfig, initial: k.vm.state.bank, plugin: k.plugins.consolidator
    }))
    // the memory's writes send the reflector's and consolidator's messages to their actors
    const collaborators: Collaborators = (a) =>
      a.to === "reflector" ? orDie<MemoryAnswer, unknown>(reflector.ask(a.msg)) : orDie<MemoryAnswer, unknown>(consolidator.ask(a.msg))
    const memory = yield* ActorSystem.spawn(memoryBehavior(parts.keeper, { fresh: parts.freshKeeper, collaborators }))
    const ask = (msg: MemoryIn) => orDie(memory.ask(msg))
    const views: Viewer = (version, queries) => ask({ _tag: "Views", version, queries }).pipe(Effect.map((o) => expectMemory(o, "Views").views))
    const score = (contexts: ReadonlyArray<ReadonlyArray<number>>, responses: ReadonlyArray<ReadonlyArray<number>>) =>
      orDie(policy.ask({ _tag: "ScoreTeacher", contexts, responses })).pipe(Effect.map((o) => expectOut(o, "Scored").logp))
    const teacher = yield* ActorSystem.spawn(teacherBehavior(parts.cfg, score, views))
    const verifier = yield* ActorSystem.spawn(verifierBehavior(parts.pool))
    return {
      sample: (b) => orDie(policy.ask({ _tag: "Sample", ...b })).pipe(Effect.map((o) => {
        const s = expectOut(o, "Sampled")
        return { results: s.results, policyVersion: s.policyVersion }
      })),
      verify: (requests) => orDie(verifier.ask({ _tag: "VerifyBatch", requests: [...requests] })),
      remember: (request) => ask({ _tag: "Remember", request }).pipe(Effect.map((o) => expectMemory(o, "Status").status)),
      readMemory: (lag) => ask({ _tag: "Read", lag }).pipe(Effect.map((o) => expectMemory(o, "Read").read)),
      views,
      freezeMemory: ask({ _tag: "Freeze" }).pipe(Effect.map((o) => expectMemory(o, "Status").status)),
      teach: (request) => orDie(teacher.ask({ _tag: "Teach", request })),
      update: (r) => orDie(policy.ask({ _tag: "Update", ...r })).pipe(Effect.map((o) => {
        const u = expectOut(o, "Updated")
        return { ...u.stats, policyVersion: u.policyVersion }
      })),
      entropy: (prompts, responses) => orDie(policy.ask({ _tag: "Entropy", prompts, responses })).pipe(Effect.map((o) => expectOut(o, "Entropy").entropy)),
      policyHash: orDie(policy.ask({ _tag: "Hash" })).pipe(Effect.map((o) => expectOut(o, "Hash").hash)),
      exportMemory: ask({ _tag: "Export" }).pipe(Effect.map((o) => expectMemory(o, "Snapshot").snapshot)),
      exportPolicy: orDie(policy.ask({ _tag: "Export" })).pipe(Effect.map((o) => expectOut(o, "State").state)),
      importPolicy: (state) => orDie(policy.ask({ _tag: "Import", state })).pipe(Effect.asVoid)
    }
  })

/**
 * The same computation as plain sequential calls: the memory runs the actor's own transition with the
 * keeper answering the reflector's and consolidator's messages in place; the teacher runs its shell's work.
 */
export const directPorts = (parts: PipelineParts): Ports => {
  let keeper = parts.keeper
  const m = parts.model
  const env = { fresh: parts.freshKeeper, collaborators: null }
  // suspended: the keeper is read when the effect runs (PMD-Transient replaces it every step)
  const memory = (msg: MemoryIn) => Effect.suspend(() => memoryTransition(env, keeper, msg)).pipe(Effect.map(([k, out]) => {
    keeper = k
    return out
  }))
  const views: Viewer = (version, queries) => memory({ _tag: "Views", version, queries }).pipe(Effect.map((o) => expectTag("memory", o, "Views").views))
  return {
    sample: (b) => Effect.sync(() => {
      const r = m.sample(b.requests, b.maxNewTokens, b.lag, b.greedy)
      return { results: r.results, policyVersion: r.version }
    }),
    verify: (requests) => parts.pool.verify(requests).pipe(Effect.orDie),
    remember: (request) => memory({ _tag: "Remember", request }).pipe(Effect.map((o) => expectTag("memory", o, "Status").status)),
    readMemory: (lag) => memory({ _tag: "Read", lag }).pipe(Effect.map((o) => expectTag("memory", o, "Read").read)),
    views,
    freezeMemory: memory({ _tag: "Freeze" }).pipe(Effect.map((o) => expectTag("memory", o, "Status").status)),
    teach: (request) => teach(parts.cfg, (c, r) => Effect.sync(() => m.scoreTeacher(c, r)), views, request),
    update: (r) => Effect.sync(() => ({ ...m.update(r.rows, r.kind, r.importance), policyVersion: m.version })),
    entropy: (p, r) => Effect.sync(() => m.entropy(p, r)),
    policyHash: Effect.sync(() => m.hash()),
    exportMemory: memory({ _tag: "Export" }).pipe(Effect.map((o) => expectTag("memory", o, "Snapshot").snapshot)),
    exportPolicy: Effect.sync(() => m.exportState()),
    importPolicy: (state) => Effect.sync(() => m.importState(state))
  }
}
