/**
 * A Remember is all or nothing (issue #15, item 4; actors/memory/transaction.ts): when a collaborator fails
 * half-way (here the reflector or the consolidator dies after the memory has committed versions of the
 * step), the memory's export is exactly the one before the message, its branch head has not moved, and
 * the same Remember sent again writes the very versions a memory that never failed writes.
 */
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { type Collaborators, memoryTransition } from "../../../actors/memory/Memory.ts"
import { type MemoryAsk, MemoryKeeper, type ProblemKey } from "../../../actors/memory/keeper.ts"
import { resolveConfig } from "../../../src/config/resolve.ts"
import type { RunConfig } from "../../../src/config/RunConfig.ts"
import { Control } from "../../../src/domains/control.ts"
import type { MemoryIn, MemorySnapshot, RememberRequest } from "../../../src/protocol/memory.ts"
import { embed } from "../../memory/gen.ts"

const PROBLEMS: ReadonlyArray<ProblemKey> = [
  { id: "p0", query: [Control.PROB, 16, 17, 18, Control.ANS] },
  { id: "p1", query: [Control.PROB, 16, 17, 19, Control.ANS] },
  { id: "p2", query: [Control.PROB, 20, 21, Control.SEP, 22, Control.ANS] }
]

const configOf = (update: string): RunConfig =>
  resolveConfig({ preset: "tiny", sets: ["memory.levels=\"EIB\"", `memory.update="${update}"`, "memory.behaviorTopK=2"] })

/** Step `step`'s writes: one success and one failure per problem, the previous step's outcomes, consolidation. */
const request = (step: number): RememberRequest => {
  const attempt = (p: ProblemKey, k: number, success: boolean) => ({
    response: [16 + k, 17 + step, Control.EOS], feedback: success ? [] : [30 + k], success,
    prov: { rolloutId: `s${step}/${p.id}/r${k}`, policyVersion: step, step, reward: success ? 1 : 0 }
  })
  return {
    groups: PROBLEMS.map((p) => ({ problemId: p.id, attempts: [attempt(p, 0, true), attempt(p, 1, false)] })),
    step, policyVersion: step, consolidate: true, fresh: false,
    outcomes: step === 1 ? [] : PROBLEMS.map((p) => ({
      problemId: p.id, query: p.query, response: [16, 17 + step - 1, Control.EOS], success: true,
      prov: { rolloutId: `s${step - 1}/${p.id}/r0`, policyVersion: step - 1, step: step - 1, reward: 1 }
    }))
  }
}

/** The keeper's own reflector and consolidator, answering in place, dying on the first message tagged `dieOn`. */
const collaborators = (k: MemoryKeeper, dieOn: string | null): Collaborators => {
  const answer = k.answerInPlace()
  return (a: MemoryAsk) => (a.msg._tag === dieOn ? Effect.die(new Error(`${a.to} died on ${dieOn}`)) : Effect.sync(() => answer(a)))
}

const send = (k: MemoryKeeper, msg: MemoryIn, dieOn: string | null = null) =>
  Effect.runSyncExit(memoryTransition({ fresh: () => { throw new Error("no fresh memory here") }, collaborators: collaborators(k, dieOn) }, k, msg))

const exported = (k: MemoryKeeper): MemorySnapshot => {
  const exit = send(k, { _tag: "Export" })
  if (!Exit.isSuccess(exit)) throw new Error("Export failed")
  const out = exit.value[1]
  if (out._tag !== "Snapshot") throw new Error(`Export answered ${out._tag}`)
  return out.snapshot
}

const remember = (k: MemoryKeeper, step: number, dieOn: string | null = null) => send(k, { _tag: "Remember", request: request(step) }, dieOn)

describe("a Remember that fails half-way leaves the memory as it was", () => {
  // PMD consolidation: experience and reflector commits are made before the consolidator dies;
  // a Memp store (vanilla): the Memp update is staged and committed with the experience before the reflector dies
  for (const [update, dieOn] of [["pmd", "Consolidate"], ["pmd", "GetBank"], ["pmd", "Reflect"], ["vanilla", "Reflect"]] as const) {
    it(`memory.update=${update}, a collaborator dies on ${dieOn}: export, head and the retried versions are unchanged`, () => {
      const cfg = configOf(update)
      const k = new MemoryKeeper(cfg, embed, PROBLEMS)
      const ref = new MemoryKeeper(cfg, embed, PROBLEMS)
      for (const step of [1, 2, 3]) {
        const before = exported(k)
        const head = k.vm.store.head(k.vm.branch)?.id
        const versions = k.vm.store.versionCount
        const failed = remember(k, step, dieOn)
        expect(Exit.isFailure(failed)).toBe(true)
        // the failure did happen after the memory had committed some of the step (a real half-way failure)
        expect(k.vm.store.versionCount).toBeGreaterThan(versions)
        expect(exported(k)).toEqual(before)
        expect(k.vm.store.head(k.vm.branch)?.id).toBe(head)
        // sent again, it writes what a memory that never failed writes
        expect(Exit.isSuccess(remember(k, step))).toBe(true)
        expect(Exit.isSuccess(remember(ref, step))).toBe(true)
        expect(k.newest).toEqual(ref.newest)
        expect(k.vm.store.log(k.vm.branch).map((v) => v.id)).toEqual(ref.vm.store.log(ref.vm.branch).map((v) => v.id))
        expect(exported(k)).toEqual(exported(ref))
      }
      expect(k.newest.seq).toBeGreaterThan(3)
    })
  }

  it("a Remember that succeeds commits as a plain one does (the staged store is gone afterwards)", () => {
    const cfg = configOf("pmd")
    const k = new MemoryKeeper(cfg, embed, PROBLEMS)
    const store = k.vm.store
    expect(Exit.isSuccess(remember(k, 1))).toBe(true)
    expect(k.vm.store).toBe(store)
    expect(store.head(k.vm.branch)?.id).toBe(k.newest.id)
    const direct = new MemoryKeeper(cfg, embed, PROBLEMS)
    direct.rememberInPlace({ ...request(1), outcomes: [] })
    expect(k.newest).toEqual(direct.newest)
  })
})
