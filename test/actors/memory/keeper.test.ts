/** The memory keeper's Memp build policies and version bookkeeping (pure, no actors). */
import { describe, expect, it } from "vitest"
import { resolveConfig } from "../../../src/config/resolve.ts"
import { Control } from "../../../src/domains/control.ts"
import { makeHashEmbedder } from "../../../src/memory/embed/hashEmbed.ts"
import { MemoryKeeper } from "../../../actors/memory/keeper.ts"

const strategy = [40, 41, 42]
const keeperWith = (build: string, update = "vanilla") => {
  const cfg = resolveConfig({ preset: "tiny", sets: [`memory.update="${update}"`, `memory.mempBuild="${build}"`, "memory.levels=\"EIB\""] })
  const k = new MemoryKeeper(cfg, makeHashEmbedder(), [{ id: "p1", query: [Control.PROB, 20, 21, Control.ANS] }])
  const sources = { rolloutIds: ["r0"], policyVersion: 0, step: 0 }
  k.applyInsights([{ problemId: "p1", lessons: [], strategies: [{ id: "s1", problemId: "p1", kind: "strategy", tokens: strategy, feedback: [], contrastive: false, confidence: 1, support: 2, sources }] }] as never, { step: 0, policyVersion: 0 })
  return k
}
const outcome = { problemId: "p1", query: [Control.PROB, 20, 21, Control.ANS], response: [30, 31, Control.EOS], success: true, prov: { rolloutId: "r1", policyVersion: 0, step: 1, reward: 1 } }

describe("MemoryKeeper", () => {
  it("Memp build policies store the trajectory, the script, or both", () => {
    const proc = (build: string) => {
      const k = keeperWith(build)
      k.recordOutcomes([outcome], { step: 1, policyVersion: 0 })
      return k.memp.items.map((i) => [...i.procedure])
    }
    expect(proc("trajectory")).toEqual([[30, 31, Control.EOS]])
    expect(proc("script")).toEqual([[...strategy, Control.EOS]])
    expect(proc("proceduralization")).toEqual([[...strategy, Control.SEP, 30, 31, Control.EOS]])
  })

  it("validation stores only successes; a frozen keeper writes nothing", () => {
    const k = keeperWith("trajectory", "validation")
    k.recordOutcomes([{ ...outcome, success: false }], { step: 1, policyVersion: 0 })
    expect(k.memp.items).toHaveLength(0)
    const before = k.newest
    k.frozen = true
    k.afterRollouts([{ problemId: "p1", attempts: [{ response: [30, Control.EOS], feedback: [], success: true, prov: outcome.prov }] }], { step: 2, policyVersion: 0 }, true)
    expect(k.newest).toEqual(before)
  })

  it("lagged(k) names the version k commits before the newest, and 'empty' before the first", () => {
    const k = keeperWith("trajectory", "pmd")
    expect(k.lagged(0)).toEqual(k.newest)
    expect(k.lagged(1)).toEqual({ seq: 0, id: "empty" })
    k.afterRollouts([{ problemId: "p1", attempts: [{ response: [30, Control.EOS], feedback: [], success: true, prov: outcome.prov }] }], { step: 1, policyVersion: 0 }, false)
    expect(k.newest.seq).toBe(3) // insights (setup) + experience + reflector
    expect(k.lagged(2).seq).toBe(1)
  })
})
