/**
 * Staleness correctness (issue #14, item 4): with `memory.lag = k` the teacher reads version newest − k
 * for every level, including the Memp store (it used to read the live Memp store, so `memory.lag` did
 * nothing under a Memp update policy). For every update policy, build policy and retrieval key, the
 * teacher's context for a problem, read at lag k, must equal
 *  (a) the context read at lag 0 back when that version was the newest (the history as it was), and
 *  (b) the context a keeper built from that version alone (a second branch of the same store) reads,
 * and a resume (a keeper over the same store, its Memp store restored from a checkpoint's copy) reads
 * the same lagged contexts.
 */
import { test as fcTest, fc } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { memoryRead, memoryViews } from "../../../actors/memory/Memory.ts"
import { MemoryKeeper, type ProblemKey } from "../../../actors/memory/keeper.ts"
import { resolveConfig } from "../../../src/config/resolve.ts"
import type { RunConfig } from "../../../src/config/RunConfig.ts"
import { Control } from "../../../src/domains/control.ts"
import type { Attempt } from "../../../src/memory/experience/experience.ts"
import { compose } from "../../../src/memory/retrieval/compose.ts"
import { VersionedMemory } from "../../../src/memory/versioned.ts"
import { attempts, embed } from "../../memory/gen.ts"

const PROBLEMS: ReadonlyArray<ProblemKey> = [
  { id: "p0", query: [Control.PROB, 16, 17, 18, Control.ANS] },
  { id: "p1", query: [Control.PROB, 16, 17, 19, Control.ANS] },
  { id: "p2", query: [Control.PROB, 20, 21, Control.SEP, 22, Control.ANS] },
  { id: "p3", query: [Control.PROB, 20, 21, Control.SEP, 23, Control.ANS] }
]
const UPDATES = ["pmd", "vanilla", "validation", "adjustment"] as const
const BUILDS = ["trajectory", "script", "proceduralization"] as const
const RETRIEVALS = ["query", "avefact", "random"] as const

const configOf = (update: string, build: string, retrieval: string, lag: number): RunConfig =>
  resolveConfig({
    preset: "tiny",
    sets: [`memory.update="${update}"`, `memory.mempBuild="${build}"`, `memory.retrieval="${retrieval}"`, `memory.lag=${lag}`,
      "memory.levels=\"EIB\"", "memory.behaviorTopK=2", "memory.bankCapacity=4"]
  })

/** What the teacher is given for a problem: the composed context, and the behavior it counts as used. */
/** A pinned read (the memory actor's Read) and, for the test, the views it shows (its Views, asked in place). */
const pin = (k: MemoryKeeper, lag: number) => {
  const read = memoryRead(k, lag)
  return { ...read, viewOf: (problemId: string, key: ReadonlyArray<string | number>) => memoryViews(k, read, [{ problemId, stream: { seed: 0, key } }])[0]! }
}

const contextOf = (read: ReturnType<typeof pin>, p: ProblemKey, salt: number | string) => {
  const { view, topBehavior } = read.viewOf(p.id, ["pinned-test", salt, p.id])
  return { tokens: compose(view, { prompt: p.query }, { levels: "EIB", budget: 4096 }).tokens, view, topBehavior }
}

let branches = 0
/** A keeper that holds only `version` (a branch of the same store pointed at it): the context built from that version. */
const keeperAt = (k: MemoryKeeper, cfg: RunConfig, version: string): MemoryKeeper => {
  const branch = `pinned-${branches++}`
  if (version !== "empty") k.vm.store.setHead(branch, version)
  return new MemoryKeeper(cfg, embed, PROBLEMS, [], new VersionedMemory(k.vm.store, branch))
}

const stepArb = fc.record({
  groups: fc.uniqueArray(fc.record({ p: fc.integer({ min: 0, max: PROBLEMS.length - 1 }), a: attempts(4) }), { selector: (g) => g.p, maxLength: 3 }),
  consolidate: fc.boolean()
})

interface Step {
  readonly groups: ReadonlyArray<{ readonly p: number; readonly a: ReadonlyArray<Attempt> }>
  readonly consolidate: boolean
}

type Outcome = Parameters<MemoryKeeper["recordOutcomes"]>[0][number]

/**
 * One training step in the order the run does it (actors/orchestrator/step.ts): the memory records the
 * previous step's outcomes (Memp update / PMD hit counters) and this step's rollouts, then the teacher
 * reads at lag k; the outcomes, which name the item the teacher used, are recorded at the next step.
 */
const runStep = (k: MemoryKeeper, lag: number, s: Step, step: number, pending: ReadonlyArray<Outcome>): Array<Outcome> => {
  const ctx = { step, policyVersion: step }
  k.recordOutcomes(pending, ctx)
  k.afterRollouts(s.groups.map((g) => ({ problemId: PROBLEMS[g.p]!.id, attempts: g.a })), ctx, s.consolidate)
  const read = pin(k, lag)
  return s.groups.flatMap((g) => {
    const p = PROBLEMS[g.p]!
    const top = contextOf(read, p, step).topBehavior
    return g.a.map((a) => ({
      problemId: p.id, query: p.query, response: a.response, success: a.success, prov: { ...a.prov, step },
      ...(top === null ? {} : { usedId: top, behaviorId: top })
    }))
  })
}

describe("every memory read uses the pinned version", () => {
  fcTest.prop([
    fc.constantFrom(...UPDATES), fc.constantFrom(...BUILDS), fc.constantFrom(...RETRIEVALS), fc.integer({ min: 0, max: 5 }),
    fc.array(stepArb, { minLength: 1, maxLength: 6 })
  ], { numRuns: 300 })(
    "with lag k the teacher's context equals the one built from version newest − k, for every update, build and retrieval policy",
    (update, build, retrieval, lag, steps) => {
      const cfg = configOf(update, build, retrieval, lag)
      const k = new MemoryKeeper(cfg, embed, PROBLEMS)
      // contexts read at lag 0 while each version was the newest: the history as it happened
      const asItWas = new Map<string, Array<ReturnType<typeof contextOf>>>()
      const check = () => {
        const read = pin(k, lag)
        expect(read.seq).toBe(k.lagged(lag).seq)
        const pinned = pin(keeperAt(k, cfg, read.id), 0)
        expect(pinned.id).toBe(read.id)
        PROBLEMS.forEach((p, i) => {
          const got = contextOf(read, p, "check")
          expect(got).toEqual(contextOf(pinned, p, "check"))
          const then = asItWas.get(read.id)
          if (then !== undefined) expect(got).toEqual(then[i])
        })
      }
      const record = () => {
        const now = pin(k, 0)
        if (!asItWas.has(now.id)) asItWas.set(now.id, PROBLEMS.map((p) => contextOf(now, p, "check")))
      }
      record()
      let pending: Array<Outcome> = []
      steps.forEach((s, i) => {
        const step = i + 1
        pending = runStep(k, lag, s, step, pending)
        record()
        check()
      })
      // a resume: a new keeper over the same store (the run's disk store) with the Memp store of the checkpoint
      // (its own branch at the same head: both keepers go on writing into the one store)
      const resumed = keeperAt(k, cfg, k.newest.id)
      resumed.memp = { items: k.memp.items.map((it) => ({ ...it })) }
      expect(resumed.contentId()).toBe(k.contentId())
      for (let back = 0; back <= lag; back++) {
        const a = pin(k, back)
        const b = pin(resumed, back)
        expect(b.id).toBe(a.id)
        for (const p of PROBLEMS) expect(contextOf(b, p, 99)).toEqual(contextOf(a, p, 99))
      }
      // ... and it writes the same next version as the keeper that never stopped
      const next: Step = { groups: [{ p: 0, a: [{ response: [16, 17, Control.EOS], feedback: [], success: true, prov: { rolloutId: `resume-${branches}`, policyVersion: 1, step: 1, reward: 1 } }] }], consolidate: true }
      expect(runStep(resumed, lag, next, steps.length + 1, pending)).toEqual(runStep(k, lag, next, steps.length + 1, pending))
      expect(resumed.newest).toEqual(k.newest)
      expect(resumed.contentId()).toBe(k.contentId())
    }
  )

  it("Memp under lag: the teacher does not see an item added after its pinned version", () => {
    const cfg = configOf("vanilla", "trajectory", "query", 2)
    const k = new MemoryKeeper(cfg, embed, PROBLEMS)
    const p = PROBLEMS[0]!
    const attempt = (id: string): Attempt => ({ response: [16, 17, 18, Control.EOS], feedback: [], success: true, prov: { rolloutId: id, policyVersion: 1, step: 1, reward: 1 } })
    runStep(k, 2, { groups: [], consolidate: false }, 1, [{ problemId: p.id, query: p.query, ...attempt("x1") }])
    // two commits per step (experience, reflector): lag 2 reads the version before step 1, with no Memp item
    expect(k.memp.items.map((i) => i.id)).toEqual(["memp-x1"])
    expect(contextOf(pin(k, 0), p, 1).topBehavior).toBe("memp-x1")
    expect(contextOf(pin(k, 2), p, 1).topBehavior).toBeNull()
    runStep(k, 2, { groups: [], consolidate: false }, 2, [{ problemId: p.id, query: p.query, ...attempt("x2") }])
    // now lag 2 reads step 1's last version: x1 only, though the live store also holds x2
    expect(k.memp.items.map((i) => i.id)).toEqual(["memp-x1", "memp-x2"])
    expect(pin(k, 2).viewOf(p.id, ["t"]).view.behaviors?.length).toBe(1)
    expect(pin(k, 0).viewOf(p.id, ["t"]).view.behaviors?.length).toBe(2)
  })
})
