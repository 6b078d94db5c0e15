/**
 * `async.execution: "pipelined"` (issue #17) reaches the inline run's final state hash for every rollout
 * schedule, with 1 or 2 rollout workers, with seeded delays injected on both sides, when the next step's
 * version is mispredicted (updates skipped), and across a kill -9 mid-pipeline and --resume.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { traceBuffer } from "../../src/runtime/Trace.ts"
import { tinyConfig, train } from "./helpers.ts"
import { afterStep, cli, cliAsync, SETS, summaryOf, tmp } from "./cliHelpers.ts"

const PIPELINED = ["async.execution=\"pipelined\""]

describe("pipelined execution gives the inline bits", () => {
  // each schedule against one pipelined variant: 1 worker, or 2 workers with seeded delays on both sides
  const ONE = PIPELINED
  const TWO_DELAYED = [...PIPELINED, "async.rolloutWorkers=2", "async.injectDelayMs=20"]
  const schedules: ReadonlyArray<readonly [string, ReadonlyArray<string>, ReadonlyArray<string>]> = [
    ["on-policy", [], ONE],
    ["one update behind (fixed), 2 workers, delays", ["async.staleness=1", "async.lagSchedule=\"fixed\""], TWO_DELAYED],
    ["uniform lags up to 2, 2 workers, delays", ["async.staleness=2"], TWO_DELAYED],
    // every lag-1 batch discarded: the update is skipped every other step, so the prefetch guesses the wrong version
    ["updates skipped (discard)", ["async.staleness=1", "async.lagSchedule=\"fixed\"", "async.correction=\"discard\"", "async.maxStaleness=0"], ONE],
    ["GRPO, one update behind", ["method=\"grpo\"", "async.staleness=1", "async.lagSchedule=\"fixed\""], ONE],
    ["SDPO, teacher interpolated with the base, 2 workers, delays", ["method=\"sdpo\"", "teacher.interpolation=0.5", "async.staleness=1", "async.lagSchedule=\"fixed\""], TWO_DELAYED],
    // the workers take micro-batches of the update too
    ["2 micro-batches, one update behind", ["optim.microBatches=2", "async.staleness=1", "async.lagSchedule=\"fixed\""], ONE],
    ["3 micro-batches, on-policy, 2 workers, delays", ["optim.microBatches=3"], TWO_DELAYED],
    // the workers compute in the run's numeric mode too (numeric.fma bits are the learner's)
    ["numeric.fma, one update behind, 2 workers, delays", ["numeric.fma=true", "async.staleness=1", "async.lagSchedule=\"fixed\""], TWO_DELAYED]
  ]
  for (const [name, sets, execution] of schedules) {
    it(name, async () => {
      const inline = await train(tinyConfig(["steps=5", ...sets]))
      const trace = traceBuffer()
      const pipelined = await train(tinyConfig(["steps=5", ...sets, ...execution]), undefined, { trace: trace.sink })
      expect(pipelined.summary.finalStateHash).toBe(inline.summary.finalStateHash)
      expect(pipelined.summary.policyHash).toBe(inline.summary.policyHash)
      // the workers really ran rows: their jobs are on their own tracks of the trace
      const jobs = trace.slices.filter((x) => x.track === "rollout-worker-0").map((x) => x.name)
      expect(jobs).toContain("Sample")
      if (!sets.includes("method=\"grpo\"")) expect(jobs).toContain("Score")
    }, 240_000)
  }

  it("micro-batches are refused with CPPO (exit 2, naming the fields)", () => {
    const r = cli(["run", "--preset", "tiny", ...SETS, "--set", "optim.microBatches=2", "--set", "cppo.enabled=true", "--out", join(tmp("pipelined-cppo"), "run")])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/optim\.microBatches 2 needs cppo\.enabled false/)
  })

  it("killed with SIGKILL mid-pipeline and resumed: the inline hash", async () => {
    const root = tmp("pipelined-kill")
    const sets = [...SETS, "--set", "steps=7", "--set", "checkpointEvery=2", "--set", "async.staleness=1", "--set", "async.lagSchedule=\"fixed\"", "--set", "optim.microBatches=2"]
    const straight = join(root, "inline")
    expect(cli(["run", "--preset", "tiny", ...sets, "--out", straight]).status).toBe(0)
    const dir = join(root, "pipelined")
    const args = ["run", "--preset", "tiny", ...sets, "--set", "async.execution=\"pipelined\"", "--set", "async.rolloutWorkers=2", "--set", "async.injectDelayMs=40", "--out", dir]
    const running = cliAsync(args)
    // step 3's row is written after step 4's rollouts were handed to the workers: a prefetch is in flight
    await afterStep(dir, 3)
    // the run's own pid, from its lock
    process.kill((JSON.parse(readFileSync(join(dir, "pmdsim.lock"), "utf8")) as { pid: number }).pid, "SIGKILL")
    const killed = await running
    expect(killed.signal).toBe("SIGKILL")
    const resumed = await cliAsync(["run", "--resume", "--out", dir])
    expect(resumed.status, resumed.output).toBe(0)
    expect(summaryOf(dir).finalStateHash).toBe(summaryOf(straight).finalStateHash)
  }, 300_000)
})
