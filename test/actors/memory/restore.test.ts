/**
 * Restore by message (issue #15, item 3): a checkpoint's memory flags and Memp store go into a memory
 * rebuilt over the same snapshot store through the memory's own `Restore`, and that memory is then the one
 * that was checkpointed: the same export, and the same next versions.
 */
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { memoryTransition } from "../../../actors/memory/Memory.ts"
import { MemoryKeeper, type ProblemKey } from "../../../actors/memory/keeper.ts"
import { resolveConfig } from "../../../src/config/resolve.ts"
import { Control } from "../../../src/domains/control.ts"
import { VersionedMemory } from "../../../src/memory/versioned.ts"
import type { MemoryIn, MemoryOut, MemorySnapshot, RememberRequest } from "../../../src/protocol/memory.ts"
import { embed } from "../../memory/gen.ts"

const PROBLEMS: ReadonlyArray<ProblemKey> = [
  { id: "p0", query: [Control.PROB, 16, 17, 18, Control.ANS] },
  { id: "p1", query: [Control.PROB, 20, 21, Control.SEP, 22, Control.ANS] }
]
const cfg = resolveConfig({ preset: "tiny", sets: ["memory.levels=\"EIB\"", "memory.update=\"vanilla\"", "memory.behaviorTopK=2"] })

const request = (step: number): RememberRequest => ({
  groups: PROBLEMS.map((p) => ({
    problemId: p.id,
    attempts: [{ response: [16, 17 + step, Control.EOS], feedback: [], success: true, prov: { rolloutId: `s${step}/${p.id}/r0`, policyVersion: step, step, reward: 1 } }]
  })),
  step, policyVersion: step, consolidate: false, fresh: false,
  // the previous step's outcomes: they update the Memp store (staged, written with the step's experience)
  outcomes: step === 1 ? [] : PROBLEMS.map((p) => ({
    problemId: p.id, query: p.query, response: [16, 17 + step - 1, Control.EOS], success: step % 2 === 0,
    prov: { rolloutId: `s${step - 1}/${p.id}/r0`, policyVersion: step - 1, step: step - 1, reward: 1 }
  }))
})

const send = (k: MemoryKeeper, msg: MemoryIn): MemoryOut => {
  const exit = Effect.runSyncExit(memoryTransition({ fresh: () => { throw new Error("no fresh memory here") }, collaborators: null }, k, msg))
  if (!Exit.isSuccess(exit)) throw new Error(`${msg._tag} failed`)
  return exit.value[1]
}
const exported = (k: MemoryKeeper): MemorySnapshot => {
  const out = send(k, { _tag: "Export" })
  if (out._tag !== "Snapshot") throw new Error(`Export answered ${out._tag}`)
  return out.snapshot
}

describe("a memory restored by message is the memory that was checkpointed", () => {
  it("the same export and the same next versions; a restored freeze ignores writes", () => {
    const k = new MemoryKeeper(cfg, embed, PROBLEMS)
    for (const step of [1, 2, 3]) send(k, { _tag: "Remember", request: request(step) })
    const checkpoint = exported(k)
    expect(checkpoint.memp.items.length).toBeGreaterThan(0)
    // a resume: a new memory over the same store at the same head (its own branch), then the checkpoint's Restore
    k.vm.store.setHead("resumed", checkpoint.newest.id)
    const resumed = new MemoryKeeper(cfg, embed, PROBLEMS, [], new VersionedMemory(k.vm.store, "resumed"))
    const status = send(resumed, { _tag: "Restore", restore: { frozen: checkpoint.frozen, memp: { items: checkpoint.memp.items.map((i) => ({ ...i })) } } })
    expect(status._tag === "Status" && status.status.contentId).toBe(checkpoint.contentId)
    expect(exported(resumed)).toEqual(checkpoint)
    send(k, { _tag: "Remember", request: request(4) })
    send(resumed, { _tag: "Remember", request: request(4) })
    expect(resumed.newest).toEqual(k.newest)
    // a checkpoint of a frozen memory (Frozen-Memory): after its Restore, writes are ignored
    const frozen = new MemoryKeeper(cfg, embed, PROBLEMS, [], new VersionedMemory(k.vm.store, "main"))
    send(frozen, { _tag: "Restore", restore: { frozen: true, memp: exported(k).memp } })
    const before = exported(frozen)
    expect(before.frozen).toBe(true)
    send(frozen, { _tag: "Remember", request: request(5) })
    expect(exported(frozen)).toEqual(before)
  })
})
