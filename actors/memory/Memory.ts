/**
 * The memory actor: owns the MemoryKeeper (the versioned memory). Its inbox and replies are data
 * (src/protocol/memory.ts): a read pins a version (seq, id); what a version holds is asked for by
 * message (`Views`), and the whole memory comes back as a snapshot (`Export`) for checkpoints and lineage.
 *
 * One transition (`memoryTransition`) serves the actor and the plain loop alike. A step's writes are the
 * keeper's `remember` coroutine; the messages it yields for the reflector and the consolidator go to
 * whoever the caller names: their actors (the pipeline; both start from the keeper's insights and bank,
 * and every change they make comes back here, so their state and the keeper's stay equal), or the keeper
 * itself (the plain loop, and PMD-Transient's throw-away memory, which the actors' state does not hold).
 *
 * The keeper is mutable (its versioned memory commits into the run's snapshot store), so a Remember runs as
 * one transaction (transaction.ts): if it fails half-way (a collaborator's error or defect), the memory is
 * exactly what it was before the message, and the kernel's re-delivery starts from there. Known limit: a
 * collaborator that committed its own state before the failure (the reflector's insights, the
 * consolidator's use counts) keeps it. Replies are immutable values, so nothing a reader was given changes
 * afterwards. A checkpoint's flags and Memp store come back by message (`Restore`).
 */
import { Effect } from "effect"
import { Rng } from "../../src/core/Rng.ts"
import type { MemoryIn, MemoryOut, MemorySnapshot, MemoryStatus, ProblemView, ViewQuery } from "../../src/protocol/memory.ts"
import { MemoryIn as MemoryInbox } from "../../src/protocol/memory.ts"
import type { VersionRef } from "../../src/protocol/records.ts"
import { behavior, type Behavior } from "../../src/runtime/Actor.ts"
import { expectTag } from "../../src/runtime/expectTag.ts"
import type { MemoryAnswer, MemoryAsk, MemoryKeeper } from "./keeper.ts"
import { atomically } from "./transaction.ts"

export type { MemoryIn, MemoryOut } from "../../src/protocol/memory.ts"

export const memoryStatus = (k: MemoryKeeper): MemoryStatus => ({ newest: k.newest, sizes: k.sizes(), contentId: k.contentId() })

/** The memory as data: immutable values the keeper holds now (later commits make new ones). */
export const memorySnapshot = (k: MemoryKeeper): MemorySnapshot => ({
  newest: k.newest, frozen: k.frozen, contentId: k.contentId(), sizes: k.sizes(), state: k.vm.state, memp: k.memp
})

/** Pins version `newest - lag` (clamped at the oldest). */
export const memoryRead = (k: MemoryKeeper, lag: number): VersionRef => k.lagged(lag)

/**
 * The views of some problems at a pinned version, each retrieved with the stream its query names.
 * Behaviors travel as what a context renders (id, kind, tokens), never the bank's records.
 */
export const memoryViews = (k: MemoryKeeper, version: VersionRef, queries: ReadonlyArray<ViewQuery>): Array<ProblemView> =>
  queries.map((q) => {
    const v = k.view(version.id, q.problemId, Rng.root(q.stream.seed).fork(...q.stream.key))
    const { behaviors, ...rest } = v.view
    return {
      problemId: q.problemId,
      view: behaviors === undefined ? rest : { ...rest, behaviors: behaviors.map((b) => ({ id: b.id ?? "", kind: b.kind, tokens: b.tokens })) },
      topBehavior: v.topBehavior ?? null
    }
  })

/** Who answers the messages a step's writes send to the reflector and the consolidator. */
export type Collaborators = (ask: MemoryAsk) => Effect.Effect<MemoryAnswer>

export interface MemoryEnv {
  /** PMD-Transient: a fresh, empty keeper for the step's throw-away memory */
  readonly fresh: () => MemoryKeeper
  /** the reflector and consolidator of the persistent memory (null: the keeper answers in place) */
  readonly collaborators: Collaborators | null
}

/** Drives the keeper's `remember` coroutine, each message answered by `answer`. */
const drive = <A>(it: Generator<MemoryAsk, A, MemoryAnswer>, answer: Collaborators): Effect.Effect<A> =>
  Effect.gen(function*() {
    let next = it.next()
    while (!next.done) next = it.next(yield* answer(next.value))
    return next.value
  })

/** The memory's transition: the one path of the plain loop and the actor (which wraps it in a shell). */
export const memoryTransition = (env: MemoryEnv, k: MemoryKeeper, msg: MemoryIn): Effect.Effect<readonly [MemoryKeeper, MemoryOut]> => {
  switch (msg._tag) {
    case "Remember": {
      const r = msg.request
      // PMD-Transient: this step's memory is built from the batch alone, used once, discarded
      const keeper = r.fresh ? env.fresh() : k
      const writes = { groups: r.groups, step: r.step, policyVersion: r.policyVersion, consolidate: r.consolidate, outcomes: r.fresh ? [] : r.outcomes }
      const done = r.fresh || env.collaborators === null
        ? Effect.sync(() => keeper.rememberInPlace(writes))
        : drive(keeper.remember(writes), env.collaborators)
      // all or nothing (a fresh keeper that fails is simply dropped: the state stays `k`)
      return Effect.map(r.fresh ? done : atomically(keeper.vm, done), () => [keeper, { _tag: "Status", status: memoryStatus(keeper) }] as const)
    }
    case "Read":
      return Effect.succeed([k, { _tag: "Read", read: memoryRead(k, msg.lag) }] as const)
    case "Views":
      return Effect.sync(() => [k, { _tag: "Views", views: memoryViews(k, msg.version, msg.queries) }] as const)
    case "Freeze":
      return Effect.sync(() => {
        k.frozen = true
        return [k, { _tag: "Status", status: memoryStatus(k) }] as const
      })
    case "Restore":
      return Effect.sync(() => {
        k.frozen = msg.restore.frozen
        // items equal to the head's keep the head's objects, so restoring the store a checkpoint saved beside its head writes nothing
        k.memp = msg.restore.memp
        return [k, { _tag: "Status", status: memoryStatus(k) }] as const
      })
    case "Status":
      return Effect.sync(() => [k, { _tag: "Status", status: memoryStatus(k) }] as const)
    case "Export":
      return Effect.sync(() => [k, { _tag: "Snapshot", snapshot: memorySnapshot(k) }] as const)
  }
}

/** Narrows a reply to the tag the request expects (a mismatch is a bug: a defect). */
export const expectMemory = <T extends MemoryOut["_tag"]>(out: MemoryOut, tag: T) => expectTag("memory", out, tag)

export const memoryBehavior = (initial: MemoryKeeper, env: MemoryEnv): Behavior<MemoryKeeper, MemoryIn, MemoryOut> =>
  behavior({
    name: "memory",
    initial,
    inbox: MemoryInbox,
    capacity: 4,
    askTimeout: "Infinity",
    handle: (k: MemoryKeeper, msg: MemoryIn) => memoryTransition(env, k, msg)
  })
