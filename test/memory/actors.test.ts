import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { emptyExperience, updateExperience } from "../../src/memory/experience/experience.ts"
import * as ActorSystem from "../../src/runtime/ActorSystem.ts"
import { consolidatorBehavior } from "../../actors/consolidator/Consolidator.ts"
import { reflectorBehavior } from "../../actors/reflector/Reflector.ts"
import { testEmbedder as embed } from "../../src/testing/arbitraries.ts"

/** Six problems of one cluster; successes share the skill 40 41, failures do 44 45. */
const problems = Array.from({ length: 6 }, (_, i) => ({ id: `p${i}`, tokens: [4, 13, 60, 3, 20 + i, 11] }))
const experiences = problems.map((p, i) => updateExperience(emptyExperience(p.id), [
  { response: [16 + i, 40, 41, 2], feedback: [], success: true, prov: { rolloutId: `${p.id}-r0`, policyVersion: 1, step: 1, reward: 1 } },
  { response: [16 + i, 44, 45, 2], feedback: [9, 26, 17, 10], success: false, prov: { rolloutId: `${p.id}-r1`, policyVersion: 1, step: 1, reward: 0 } }
], embed).next)

const script = Effect.gen(function*() {
  const reflector = yield* ActorSystem.spawn(reflectorBehavior({ embed }))
  const consolidator = yield* ActorSystem.spawn(consolidatorBehavior({ embedProblem: embed, embedContent: embed }))
  const reflected = yield* reflector.ask({ _tag: "Reflect", step: 1, policyVersion: 1, experiences: [...experiences].reverse() })
  assert.strictEqual(reflected._tag, "Reflected")
  const ins = yield* reflector.ask({ _tag: "GetInsights", problemIds: problems.map((p) => p.id) })
  if (ins._tag !== "Insights") throw new Error("unexpected reply")
  const consolidated = yield* consolidator.ask({ _tag: "Consolidate", step: 2, policyVersion: 1, problems, insights: ins.insights })
  const retrieved = yield* consolidator.ask({ _tag: "Retrieve", queries: [problems[0]!], k: 3 })
  const bad = yield* consolidator.askUnknown({ _tag: "Retrieve", queries: "nope", k: 3 }).pipe(Effect.flip)
  const badK = yield* consolidator.ask({ _tag: "Retrieve", queries: [], k: -1 }).pipe(Effect.flip)
  return { reflected, consolidated, retrieved, bad: bad._tag, badK: badK._tag }
})

describe("reflector and consolidator actors", () => {
  it.effect("reflect -> consolidate -> retrieve, deterministic, bad input gets typed errors", () =>
    Effect.gen(function*() {
      const a = yield* ActorSystem.run(script)
      const b = yield* ActorSystem.run(script)
      assert.deepStrictEqual(a, b)
      if (a.reflected._tag !== "Reflected" || a.consolidated._tag !== "Consolidated" || a.retrieved._tag !== "Retrieved") throw new Error("unexpected replies")
      assert.strictEqual(a.reflected.changed.length, 6)
      assert.isTrue(a.consolidated.created >= 3 && a.consolidated.created <= 8)
      const top = a.retrieved.results[0]!.behaviors
      assert.strictEqual(top.length, 3)
      assert.isTrue(top.some((r) => r.behavior.kind === "skill" && r.behavior.tokens.join() === "40,41"))
      assert.strictEqual(a.bad, "InvalidMessage")
      assert.strictEqual(a.badK, "ConsolidatorInputError")
    }))
})
