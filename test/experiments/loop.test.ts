/**
 * Whole-loop determinism and ablation wiring, on tiny runs (scratch weights, a small code domain).
 */
import { describe, expect, it } from "vitest"
import { tf } from "../../src/numeric/tf.ts"
import { tinyConfig, train } from "./helpers.ts"

describe("the training loop", () => {
  it("same seed => identical final state hash, for 1 or 4 verifier workers and with transient faults", async () => {
    const a = await train(tinyConfig())
    const b = await train(tinyConfig(["workers=4"]))
    const c = await train(tinyConfig(["workers=2", "faults.crash=0.1", "faults.flaky=0.2", "faults.slow=0.1"]))
    expect(b.summary.finalStateHash).toBe(a.summary.finalStateHash)
    expect(c.summary.finalStateHash).toBe(a.summary.finalStateHash)
    const d = await train(tinyConfig(["seed=2"]))
    expect(d.summary.finalStateHash).not.toBe(a.summary.finalStateHash)
  })

  it("the plain sequential loop computes exactly what the actor pipeline computes, and no tensor leaks", async () => {
    // EIB: the reflector and consolidator actors (actor pipeline) vs the same functions in place (plain loop)
    const cfg = tinyConfig(["steps=2", "memory.levels=\"EIB\""])
    const actors = await train(cfg)
    const before = tf.memory().numTensors
    const direct = await train(cfg, undefined, { actors: false })
    expect(direct.summary.finalStateHash).toBe(actors.summary.finalStateHash)
    expect(tf.memory().numTensors).toBe(before)
    // each evaluation judges what the reflector and consolidator wrote (internalization rows only)
    const evals = actors.rows.filter((r) => r.kind === "eval")
    const last = evals.filter((r) => r.protocol === "internalization").at(-1)!
    expect(last.reflector!.strategies + last.reflector!.lessons).toBeGreaterThan(0)
    expect(evals.filter((r) => r.protocol === "transfer").every((r) => r.reflector === undefined)).toBe(true)
  })

  it("memory lag beyond the history is clamped: recorded per step and counted in the summary", async () => {
    const r = await train(tinyConfig(["memory.lag=6", "steps=3"]))
    expect(r.trainRows.map((row) => row.memoryLagClamped)).toEqual([true, true, true])
    expect(r.summary.memoryLagClampedSteps).toBe(3)
    const unlagged = await train(tinyConfig(["steps=3"]))
    expect(unlagged.summary.memoryLagClampedSteps).toBe(0)
  })

  it("frozen-policy never changes the weights; its memory still evolves", async () => {
    const r = await train(tinyConfig(["method=\"frozen-policy\""]))
    const base = await train(tinyConfig(["method=\"frozen-policy\"", "steps=1"]))
    expect(r.summary.policyHash).toBe(base.summary.policyHash)
    expect(r.trainRows.every((row) => row.loss === 0 && row.rolloutPolicyVersion === 0)).toBe(true)
    expect(r.trainRows.at(-1)!.memorySizes.experience).toBeGreaterThan(r.trainRows[0]!.memorySizes.experience)
  })

  it("frozen-memory never changes the memory version after it freezes, while the policy trains", async () => {
    const r = await train(tinyConfig(["method=\"frozen-memory\"", "memory.frozenAfterSteps=2", "steps=5"]))
    const after = r.trainRows.filter((row) => row.step > 2)
    expect(new Set(after.map((row) => row.memoryVersionNewest)).size).toBe(1)
    expect(new Set(after.map((row) => row.memoryVersionRead)).size).toBe(1)
    expect(after.every((row) => row.rolloutPolicyVersion > 0 || row.step === 3)).toBe(true)
    expect(r.trainRows.filter((row) => row.step <= 2).every((row) => row.loss === 0)).toBe(true)
  })

  it("PMD-Transient's teacher only reads memory written in the same step", async () => {
    const r = await train(tinyConfig(["method=\"pmd-transient\"", "memory.levels=\"EIB\""]))
    // a fresh memory per step: experience + reflector + consolidator = 3 versions, never more
    for (const row of r.trainRows) {
      expect(row.memoryVersionNewest).toBe(3)
      expect(row.memoryVersionRead).toBe(3)
    }
  })

  it("memory lag k reads exactly version newest - k", async () => {
    const r = await train(tinyConfig(["memory.lag=2", "steps=3"]))
    for (const row of r.trainRows) {
      expect(row.memoryVersionRead).toBe(Math.max(0, row.memoryVersionNewest - 2))
      expect(row.memoryLag).toBe(row.memoryVersionNewest - row.memoryVersionRead)
    }
  })

  it("async rollouts come from the policy at most `staleness` updates old and are recorded", async () => {
    const r = await train(tinyConfig(["async.staleness=2", "async.maxStaleness=1", "async.correction=\"importance\"", "steps=4"]))
    expect(r.trainRows.some((row) => row.rolloutLag > 0)).toBe(true)
    expect(r.trainRows.every((row) => row.rolloutLag <= 2)).toBe(true)
  })

  it("async.lagSchedule=fixed: every step's rollouts are exactly `staleness` updates old, clamped by the updates made", async () => {
    const r = await train(tinyConfig(["async.staleness=2", "async.lagSchedule=\"fixed\"", "async.correction=\"importance\"", "steps=4"]))
    expect(r.trainRows.map((row) => [row.rolloutLag, row.rolloutPolicyVersion])).toEqual([[0, 0], [1, 0], [2, 0], [2, 1]])
  })
})
