/**
 * Solution replay (actors/orchestrator/replay.ts): only unsolved problems with a stored success get a row;
 * the row is the memory-free prompt with the best stored success (highest reward, then newest, then
 * smallest id), its stored reward, the problem's group and no teacher. And a tiny run: the knob absent
 * keeps the run's bits, `false` equals absent, `true` with async staleness is refused (exit 2).
 */
import { describe, expect, it } from "vitest"
import { bestStoredSuccess, replayRows } from "../../actors/orchestrator/replay.ts"
import type { ExperienceItem } from "../../src/memory/experience/experience.ts"
import { cli, SETS, summaryOf, tmp } from "../experiments/cliHelpers.ts"
import { join } from "node:path"

const item = (id: string, reward: number, step: number, response: Array<number> = [5, 6]): ExperienceItem => ({
  id, response, feedback: [], success: true, prov: { rolloutId: id, policyVersion: step, step, reward }
} as unknown as ExperienceItem)

describe("solution replay rows", () => {
  it("picks the highest reward, then the newest, then the smallest id", () => {
    expect(bestStoredSuccess([item("b", 1, 3), item("a", 1, 3), item("c", 0.5, 9)])!.id).toBe("a")
    expect(bestStoredSuccess([item("a", 1, 2), item("b", 1, 7)])!.id).toBe("b")
    expect(bestStoredSuccess([])).toBeUndefined()
  })

  it("adds a row only for an unsolved problem with a stored success", () => {
    const rows = replayRows([
      { problemId: "p1", group: 0, prompt: [1, 2], solvedNow: true, successes: [item("x", 1, 1)] },
      { problemId: "p2", group: 1, prompt: [3], solvedNow: false, successes: [] },
      { problemId: "p3", group: 2, prompt: [4], solvedNow: false, successes: [item("y", 1, 2, [7, 8, 9])] }
    ])
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ prompt: [4], response: [7, 8, 9], reward: 1, group: 2, teacherLogp: null, replayOf: "y" })
    expect(rows[0]!.oldLogp).toHaveLength(3)
  })

  it("the knob: absent and false give the same run; with async staleness it is refused", () => {
    const root = tmp("replay")
    const args = ["run", "--preset", "tiny", ...SETS]
    expect(cli([...args, "--out", join(root, "absent")]).status).toBe(0)
    expect(cli([...args, "--set", "memory.replaySolutions=false", "--out", join(root, "false")]).status).toBe(0)
    expect(summaryOf(join(root, "false")).finalStateHash).toBe(summaryOf(join(root, "absent")).finalStateHash)
    const refused = cli([...args, "--set", "memory.replaySolutions=true", "--set", "async.staleness=1", "--out", join(root, "async")])
    expect(refused.status).toBe(2)
    expect(refused.stderr).toMatch(/memory\.replaySolutions needs async\.staleness 0/)
  }, 120_000)
})
