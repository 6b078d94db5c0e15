/**
 * The composition root: which actors a run has and how they are wired, declared once (`pipeline`), from
 * data only (`PipelineInput`: the config, the base weights, the problem keys, the run's versioned memory,
 * the plug-ins, the verifier pool's options). Each actor is built through its folder's entry module
 * (actors/<name>/index.ts); this file imports nothing else of theirs.
 *
 * The same declaration gives both ways to run a step's ports (ports.ts): `actorPorts` spawns every actor
 * as a supervised fiber with a bounded mailbox in the ambient ActorSystem; `directPorts` runs the same
 * behaviors in place (src/runtime/InPlace.ts: one transition per message, on the caller's fiber), the
 * baseline of bench/orchestrator/pipeline.bench.ts. Only scheduling differs, so results are identical.
 * The actors' own state (the policy's tensors) is released with the scope that built the ports.
 */
import { Effect, type Scope } from "effect"
import type { RunConfig } from "../../src/config/RunConfig.ts"
import type { Behavior } from "../../src/runtime/Actor.ts"
import * as ActorSystem from "../../src/runtime/ActorSystem.ts"
import type { DuplicateActor } from "../../src/runtime/Errors.ts"
import { inPlace } from "../../src/runtime/InPlace.ts"
import { consolidatorBehavior } from "../consolidator/index.ts"
import { expectMemory, makeMemory, memoryBehavior, type MemoryIn, type MemoryOut, type MemorySpec } from "../memory/index.ts"
import { expectOut, makePolicy, makeRollout, policyBehavior, type PolicyIn, type PolicyOut, type PolicySpec } from "../policy/index.ts"
import { reflectorBehavior } from "../reflector/index.ts"
import { type TeacherIn, teacherBehavior, type TeachReply, type Viewer } from "../teacher/index.ts"
import { makePool, type PoolOptions, verifierBehavior, type VerifierIn, type VerifyResult } from "../verifier/index.ts"
import type { Ports } from "./ports.ts"

/** What a run's actors are built from: data (and the run's plug-ins and fixed embedders), never an actor's state. */
export interface PipelineInput {
  readonly cfg: RunConfig
  readonly policy: PolicySpec
  readonly memory: MemorySpec
  readonly verifier: PoolOptions
}

/** How an actor is asked once started; its typed failures and a stopped actor are defects of the run. */
type Ask<M, O> = (msg: M) => Effect.Effect<O>

/** How the pipeline's actors are started: spawned in the ambient ActorSystem, or run in place. */
type Start<R> = <S, M, O, E>(b: Behavior<S, M, O, E>) => Effect.Effect<Ask<M, O>, DuplicateActor, R>

const spawned: Start<ActorSystem.ActorSystem> = (b) =>
  ActorSystem.spawn(b).pipe(Effect.map((ref) => (msg) => Effect.orDie(ref.ask(msg))))

const local: Start<never> = (b) =>
  Effect.sync(() => {
    const ask = inPlace(b)
    return (msg) => Effect.orDie(ask(msg))
  })

/**
 * The run's actors, one line each, in the order they are started; each is built from the input and the
 * asks of the actors declared before it. A new stage is a new line here (and its actor folder).
 */
const pipeline = <R>(input: PipelineInput, start: Start<R>): Effect.Effect<Ports, DuplicateActor, R | Scope.Scope> =>
  Effect.gen(function*() {
    const { cfg } = input
    const memoryParts = makeMemory(cfg, input.memory)
    const model = yield* makePolicy(cfg, input.policy)
    const policy = yield* start(policyBehavior(model, yield* makeRollout(cfg, model)))
    const reflector = yield* start(reflectorBehavior(memoryParts.reflector))
    const consolidator = yield* start(consolidatorBehavior(memoryParts.consolidator))
    // the memory's writes send the reflector's and consolidator's messages to their actors
    const memory = yield* start(memoryBehavior(memoryParts.keeper, {
      fresh: memoryParts.fresh, collaborators: (a) => (a.to === "reflector" ? reflector(a.msg) : consolidator(a.msg))
    }))
    const teacher = yield* start(teacherBehavior(cfg, scorer(policy), viewer(memory)))
    const verifier = yield* start(verifierBehavior(yield* makePool(input.verifier)))
    return portsOf(policy, memory, teacher, verifier)
  })

/** The teacher's scores come from the policy (the same network, reprompted). */
const scorer = (policy: Ask<PolicyIn, PolicyOut>) =>
(contexts: ReadonlyArray<ReadonlyArray<number>>, responses: ReadonlyArray<ReadonlyArray<number>>) =>
  policy({ _tag: "ScoreTeacher", contexts, responses }).pipe(Effect.map((o) => expectOut(o, "Scored").logp))

/** The views of a pinned memory version come from the memory. */
const viewer = (memory: Ask<MemoryIn, MemoryOut>): Viewer => (version, queries) =>
  memory({ _tag: "Views", version, queries }).pipe(Effect.map((o) => expectMemory(o, "Views").views))

/** The step's ports as messages to the actors (ports.ts); every reply narrowed to the tag its request expects. */
const portsOf = (
  policy: Ask<PolicyIn, PolicyOut>, memory: Ask<MemoryIn, MemoryOut>, teacher: Ask<TeacherIn, TeachReply>,
  verifier: Ask<VerifierIn, ReadonlyArray<VerifyResult>>
): Ports => {
  const status = (msg: MemoryIn) => memory(msg).pipe(Effect.map((o) => expectMemory(o, "Status").status))
  return {
    sample: (b) => policy({ _tag: "Sample", ...b }).pipe(Effect.map((o) => {
      const s = expectOut(o, "Sampled")
      return { results: s.results, policyVersion: s.policyVersion }
    })),
    verify: (requests) => verifier({ _tag: "VerifyBatch", requests: [...requests] }),
    remember: (request) => status({ _tag: "Remember", request }),
    readMemory: (lag) => memory({ _tag: "Read", lag }).pipe(Effect.map((o) => expectMemory(o, "Read").read)),
    views: viewer(memory),
    freezeMemory: status({ _tag: "Freeze" }),
    restoreMemory: (restore) => status({ _tag: "Restore", restore }),
    teach: (request) => teacher({ _tag: "Teach", request }),
    update: (r) => policy({ _tag: "Update", ...r }).pipe(Effect.map((o) => {
      const u = expectOut(o, "Updated")
      return { ...u.stats, policyVersion: u.policyVersion }
    })),
    prefetch: (batches) => policy({ _tag: "Prefetch", batches }).pipe(Effect.asVoid),
    entropy: (prompts, responses) => policy({ _tag: "Entropy", prompts, responses }).pipe(Effect.map((o) => expectOut(o, "Entropy").entropy)),
    policyHash: policy({ _tag: "Hash" }).pipe(Effect.map((o) => expectOut(o, "Hash").hash)),
    exportMemory: memory({ _tag: "Export" }).pipe(Effect.map((o) => expectMemory(o, "Snapshot").snapshot)),
    exportPolicy: policy({ _tag: "Export" }).pipe(Effect.map((o) => expectOut(o, "State").state)),
    importPolicy: (state) => policy({ _tag: "Import", state }).pipe(Effect.asVoid)
  }
}

/** The ports backed by supervised actors in the ambient ActorSystem (their state released with the scope). */
export const actorPorts = (input: PipelineInput): Effect.Effect<Ports, DuplicateActor, ActorSystem.ActorSystem | Scope.Scope> =>
  pipeline(input, spawned)

/** The same actors run in place, one transition per message on the caller's fiber (the plain loop). */
export const directPorts = (input: PipelineInput): Effect.Effect<Ports, never, Scope.Scope> =>
  pipeline(input, local).pipe(Effect.orDie)
