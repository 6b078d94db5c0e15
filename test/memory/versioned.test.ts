import { test as fcTest, fc } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { defaultConsolidateConfig } from "../../src/memory/behavior/consolidate.ts"
import { recordUses } from "../../src/memory/behavior/usage.ts"
import { consolidateMemory, recordRollouts, reflectProblems } from "../../src/memory/pipeline.ts"
import { diffEdits, diffTouched, emptyMemory, fromEntries, type MemoryState, toEntries } from "../../src/memory/state.ts"
import { VersionedMemory } from "../../src/memory/versioned.ts"
import { attempts, testEmbedder as embed } from "../../src/testing/arbitraries.ts"
import { checkMemoryPipeline } from "../../src/testing/index.ts"

const PROBLEMS = ["p0", "p1", "p2"]
const problemVecs = PROBLEMS.map((id, i) => ({ id, vec: embed([30 + (i % 2), 31, 32]) }))
const cfg = { capacity: 4, dupThreshold: 0.9 }

/** One step: rollouts for some problems, reflection on them, sometimes a consolidation and some uses. */
const stepArb = fc.record({
  groups: fc.uniqueArray(fc.record({ p: fc.constantFrom(...PROBLEMS), a: attempts(6) }), { selector: (g) => g.p, maxLength: 3 }),
  consolidate: fc.boolean(),
  uses: fc.array(fc.tuple(fc.nat(10), fc.boolean()), { maxLength: 4 })
})

describe("memory pipeline under versioning", () => {
  it("the run's memory keeper with the built-in plug-ins keeps every pipeline invariant of pmdsim/testing", () => {
    checkMemoryPipeline({}, { numRuns: 100 })
  })

  fcTest.prop([fc.array(stepArb, { minLength: 1, maxLength: 4 })], { numRuns: 1000 })(
    "bounds at every level, provenance, monotone versions and counters, exact snapshot round trips",
    (steps) => {
      const vm = new VersionedMemory()
      const states: Array<[string, MemoryState]> = []
      const rollouts = new Set<string>()
      let state = vm.state
      let lastSeq = -1
      steps.forEach((s, step) => {
        const ctx = { step, policyVersion: step }
        for (const g of s.groups) for (const a of g.a) rollouts.add(a.prov.rolloutId)
        const start = state
        const r1 = recordRollouts(state, s.groups.map((g) => ({ problemId: g.p, attempts: g.a })), embed)
        const r2 = reflectProblems(r1.state, s.groups.map((g) => g.p), embed, ctx)
        state = r2.state
        // the touched hint finds exactly the edits of a full reference scan
        expect(diffTouched(start, state, { experience: r1.touched.experience!, insights: r2.touched.insights! })).toEqual(diffEdits(start, state))
        const beforeBank = state.bank
        if (s.consolidate) state = consolidateMemory(state, problemVecs, embed, ctx, { ...defaultConsolidateConfig, ...cfg }).state
        const bs = state.bank.behaviors
        if (bs.length > 0) state = { ...state, bank: recordUses(state.bank, s.uses.map(([k, ok]) => ({ behaviorId: bs[k % bs.length]!.id, success: ok }))) }
        const c = vm.commit(state, ctx, "step")
        expect(c.version.seq).toBeGreaterThan(lastSeq)
        lastSeq = c.version.seq
        states.push([c.version.id, state])
        // capacity bounds at every level
        for (const e of state.experience.values()) {
          expect(e.successes.length).toBeLessThanOrEqual(5)
          expect(e.failures.length).toBeLessThanOrEqual(3)
        }
        for (const i of state.insights.values()) {
          expect(i.strategies.length).toBeLessThanOrEqual(10)
          expect(i.lessons.length).toBeLessThanOrEqual(10)
          for (const x of [...i.strategies, ...i.lessons]) for (const r of x.sources.rolloutIds) expect(rollouts.has(r)).toBe(true)
        }
        expect(state.bank.behaviors.length).toBeLessThanOrEqual(cfg.capacity)
        for (const b of state.bank.behaviors) for (const r of b.sources.rolloutIds) expect(rollouts.has(r)).toBe(true)
        // counters of surviving behaviors never decrease
        for (const b of beforeBank.behaviors) {
          const now = state.bank.behaviors.find((x) => x.id === b.id)
          if (now) {
            expect(now.hits).toBeGreaterThanOrEqual(b.hits)
            expect(now.successes).toBeGreaterThanOrEqual(b.successes)
            expect(now.support).toBeGreaterThanOrEqual(b.support)
          }
        }
      })
      // every version checks out to exactly the state that was committed
      for (const [id, st] of states) expect(vm.checkout(id)).toEqual(st)
      expect(fromEntries(toEntries(state))).toEqual(state)
    }
  )

  it("a commit writes only the records that changed", () => {
    const vm = new VersionedMemory()
    const a = recordRollouts(emptyMemory, [{ problemId: "p0", attempts: [{ response: [20], feedback: [], success: true, prov: { rolloutId: "x", policyVersion: 0, step: 0, reward: 1 } }] },
      { problemId: "p1", attempts: [] }], embed).state
    expect(vm.commit(a, { step: 0, policyVersion: 0 }, "exp").changed).toBe(2)
    const b = recordRollouts(a, [{ problemId: "p1", attempts: [{ response: [21], feedback: [], success: true, prov: { rolloutId: "y", policyVersion: 0, step: 1, reward: 1 } }] }], embed).state
    expect(diffEdits(a, b).map((e) => e.key)).toEqual(["exp/p1"])
    const c = vm.commit(b, { step: 1, policyVersion: 0 }, "exp")
    expect(c.changed).toBe(1)
    expect(c.version.parent).not.toBeNull()
    expect(() => vm.commit(b, { step: 0, policyVersion: 0 }, "exp")).toThrow(/steps must not go back/)
    // a second process state reloaded from the same store sees the head
    expect(new VersionedMemory(vm.store).state).toEqual(b)
  })

  it("a transaction commits off the branch head until published, with the ids of direct commits; a rollback leaves nothing reachable", () => {
    const attempt = (id: string, token: number) =>
      ({ response: [token], feedback: [], success: true, prov: { rolloutId: id, policyVersion: 0, step: 0, reward: 1 } })
    const s1 = recordRollouts(emptyMemory, [{ problemId: "p0", attempts: [attempt("a", 20)] }], embed).state
    const s2 = recordRollouts(s1, [{ problemId: "p1", attempts: [attempt("b", 21)] }], embed).state
    const s3 = recordRollouts(s2, [{ problemId: "p2", attempts: [attempt("c", 22)] }], embed).state
    const direct = new VersionedMemory()
    direct.commit(s1, { step: 0, policyVersion: 0 }, "exp")
    const directIds = [direct.commit(s2, { step: 1, policyVersion: 0 }, "exp").version.id, direct.commit(s3, { step: 1, policyVersion: 0 }, "reflector").version.id]

    const vm = new VersionedMemory()
    const first = vm.commit(s1, { step: 0, policyVersion: 0 }, "exp").version
    // rolled back: the object reads as before, the branch head never moved
    const failed = vm.transaction()
    vm.commit(s2, { step: 1, policyVersion: 0 }, "exp")
    expect(vm.state).toEqual(s2)
    expect(vm.store.head("main")?.id).toBe(first.id)
    failed.rollback()
    expect(vm.state).toBe(s1)
    expect(vm.head?.id).toBe(first.id)
    expect(vm.store.head("main")?.id).toBe(first.id)
    // published: the same version ids as direct commits, the head moved once, to the last
    const tx = vm.transaction()
    expect(() => vm.transaction()).toThrow(/already open/)
    const ids = [vm.commit(s2, { step: 1, policyVersion: 0 }, "exp").version.id, vm.commit(s3, { step: 1, policyVersion: 0 }, "reflector").version.id]
    expect(vm.store.head("main")?.id).toBe(first.id)
    tx.publish()
    expect(ids).toEqual(directIds)
    expect(vm.store.head("main")?.id).toBe(directIds[1])
    expect(new VersionedMemory(vm.store).state).toEqual(s3)
  })
})
