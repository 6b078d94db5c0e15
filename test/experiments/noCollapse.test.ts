/**
 * Issue #13's long-run regression guard, at small size: SDPO's slide and the regime that stops it.
 *
 * By default the teacher of a group where nothing succeeded reads only its own failure's feedback, and
 * the reverse-KL pull toward that teacher takes the train reward down over a long run (findings §1). The
 * `stable` regime (the `paper` preset's: a teacher only where a solution is shown, interpolated with the
 * base) keeps it. A learning rate of 1e-3 (3.3x the presets') brings the slide from ~200 steps into 150,
 * so both runs fit in about a minute each. The runs are bit-identical on every machine, so the figures
 * below are fixed until the training code changes; the margins are wide (measured: default 0.18 -> 0.06,
 * stable 0.17 -> 0.24 mean reward, first 30 steps -> last 30).
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { cliAsync, tmp } from "./cliHelpers.ts"

const STEPS = 150
const WINDOW = 30

interface TrainRow { readonly kind: string; readonly step: number; readonly rewardMean: number; readonly teacherFraction: number }

const trainRows = (dir: string): Array<TrainRow> =>
  readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as TrainRow).filter((r) => r.kind === "train")

const mean = (xs: ReadonlyArray<number>): number => xs.reduce((a, b) => a + b, 0) / xs.length

/** Mean train reward over the first and the last WINDOW steps, and the teacher's share over the last. */
const slide = (dir: string) => {
  const rows = trainRows(dir)
  expect(rows.map((r) => r.step)).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1))
  const last = rows.slice(-WINDOW)
  return { first: mean(rows.slice(0, WINDOW).map((r) => r.rewardMean)), last: mean(last.map((r) => r.rewardMean)), taught: mean(last.map((r) => r.teacherFraction)) }
}

describe("SDPO over a long run (issue #13's collapse)", () => {
  it("slides in the default regime and holds in the stable one", { timeout: 900_000 }, async () => {
    const root = tmp("no-collapse")
    const run = (preset: string) =>
      cliAsync([
        "run", "--preset", preset, "--method", "sdpo", "--seed", "1",
        "--set", `steps=${STEPS}`, "--set", "optim.lr=0.001", "--set", "eval.problems=16",
        "--set", `eval.every=${STEPS + 1}`, "--set", `checkpointEvery=${STEPS + 1}`,
        "--out", join(root, preset)
      ])
    const [byDefault, stable] = await Promise.all([run("default"), run("stable")])
    expect(byDefault.status, byDefault.output.slice(-2000)).toBe(0)
    expect(stable.status, stable.output.slice(-2000)).toBe(0)
    const d = slide(join(root, "default"))
    const s = slide(join(root, "stable"))
    const figures = `default ${d.first.toFixed(3)} -> ${d.last.toFixed(3)}, stable ${s.first.toFixed(3)} -> ${s.last.toFixed(3)}`
    // the mechanism's run: a teacher on nearly every rollout, and the reward more than halved
    expect(d.taught, figures).toBeGreaterThan(0.9)
    expect(d.last, figures).toBeLessThan(0.5 * d.first)
    // the fix: the reward does not fall, and the distillation still acts (it is not GRPO in disguise)
    expect(s.last, figures).toBeGreaterThanOrEqual(s.first)
    expect(s.taught, figures).toBeGreaterThan(0.1)
  })
})
