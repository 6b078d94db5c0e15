/**
 * Crash-point enumeration (the ALICE / CrashMonkey idea): the file layer (src/core/durableFile.ts) counts
 * its crash points and stops the process hard (SIGKILL) right after the N-th when PMDSIM_CRASH_AT_WRITE=N.
 * A tiny run is run once to count its points W; then for every N (PMDSIM_CRASH_FULL=1, as .ci/run does) or
 * a seeded sample (the default, for npm test) the run is crashed at N and recovered the way a user would:
 * `run --resume`, or, when the crash came before the run's marker existed (the run had written nothing),
 * the same `run` command again. Each recovery must reach the uninterrupted run's final state hash, with
 * every step's metrics exactly once, no temp files left, and a `report` that succeeds. The same for a
 * tiny 2-run sweep, rerun with the same command. Disk full (PMDSIM_ENOSPC_AT_WRITE=N) exits 1 naming the
 * file, leaves no temp file, and resumes once "space is freed".
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { cli, cliAsync, SETS, summaryOf, tempFiles, tmp, trainSteps } from "./cliHelpers.ts"

const FULL = process.env["PMDSIM_CRASH_FULL"] === "1"
const RUN = ["run", "--preset", "tiny", ...SETS]

/** Every point, or the first, the last and a few drawn by a fixed seed (a small LCG: no Math.random). */
const pointsToCover = (total: number, sample: number, seed: number): Array<number> => {
  if (FULL || total <= sample) return Array.from({ length: total }, (_, i) => i + 1)
  const picked = new Set([1, total])
  let x = seed
  while (picked.size < sample) {
    x = (x * 1103515245 + 12345) % 2147483648
    picked.add(1 + (x % total))
  }
  return [...picked].sort((a, b) => a - b)
}

/** The most crash points any one process of the command passes (each process counts its own). */
const countPoints = (args: ReadonlyArray<string>): number => {
  const trace = join(tmp("trace"), "trace.txt")
  const r = cli(args, { PMDSIM_WRITE_TRACE: trace })
  expect(r.status, r.stderr).toBe(0)
  const perProcess = new Map<string, number>()
  for (const line of readFileSync(trace, "utf8").trim().split("\n")) {
    const [pid, n] = line.split(" ")
    perProcess.set(pid!, Math.max(perProcess.get(pid!) ?? 0, Number(n)))
  }
  return Math.max(...perProcess.values())
}

/** Reruns a command until it is not refused for a lock (exit 3): an orphaned child may still be stopping. */
const untilUnlocked = async (args: ReadonlyArray<string>) => {
  for (let i = 0; ; i++) {
    const r = await cliAsync(args)
    if (r.status !== 3 || i >= 60) return r
    await new Promise((res) => setTimeout(res, 500))
  }
}

describe("every crash point of a run is recoverable", () => {
  it(`a tiny run, crashed after each of its writes (${FULL ? "all points" : "seeded sample"}), resumes to the same final state hash`, async () => {
    const root = tmp("crash")
    const straight = join(root, "straight")
    const total = countPoints([...RUN, "--out", straight])
    const want = summaryOf(straight).finalStateHash
    const covered = pointsToCover(total, 6, 20261204)
    for (const n of covered) {
      const dir = join(root, `crash-${n}`)
      const crashed = await cliAsync([...RUN, "--out", dir], { PMDSIM_CRASH_AT_WRITE: String(n) })
      expect(crashed.signal, `point ${n}: ${crashed.output}`).toBe("SIGKILL")
      const started = existsSync(join(dir, "pmdsim-run.json"))
      const recovered = started ? await cliAsync(["run", "--resume", "--out", dir]) : await cliAsync([...RUN, "--out", dir])
      expect(recovered.status, `point ${n} (${started ? "resume" : "rerun"}): ${recovered.output}`).toBe(0)
      expect(summaryOf(dir).finalStateHash, `point ${n}`).toBe(want)
      expect(trainSteps(dir), `point ${n}`).toEqual([1, 2, 3, 4])
      expect(tempFiles(dir), `point ${n}`).toEqual([])
      const report = cli(["report", dir])
      expect(report.status, `point ${n}: ${report.stderr}`).toBe(0)
    }
    console.log(`crash points covered: ${covered.length} of ${total} (${covered.join(", ")})`)
  }, 1_800_000)

  it(`a tiny 2-run sweep, crashed at each write count (${FULL ? "all" : "seeded sample"}), completes with the same hashes when rerun`, async () => {
    const root = tmp("crash-sweep")
    const spec = join(root, "sweep.json")
    writeFileSync(spec, JSON.stringify({
      preset: "tiny", methods: ["grpo", "pmd"], seeds: [1], parallel: 2,
      set: { steps: 2, base: "scratch", "eval.problems": 4, "domainOptions.clusters": 4, "domainOptions.trainPerCluster": 4, "domainOptions.heldoutPerCluster": 2 }
    }))
    const straight = join(root, "straight")
    const total = countPoints(["sweep", "--config", spec, "--out", straight])
    const want = ["grpo-s1", "pmd-s1"].map((r) => summaryOf(join(straight, r)).finalStateHash)
    const covered = pointsToCover(total, 3, 7)
    for (const n of covered) {
      const dir = join(root, `crash-${n}`)
      // every process of the sweep (the sweep and each run) stops hard at its own n-th point
      await cliAsync(["sweep", "--config", spec, "--out", dir], { PMDSIM_CRASH_AT_WRITE: String(n) })
      const rerun = await untilUnlocked(["sweep", "--config", spec, "--out", dir])
      expect(rerun.status, `point ${n}: ${rerun.output}`).toBe(0)
      expect(["grpo-s1", "pmd-s1"].map((r) => summaryOf(join(dir, r)).finalStateHash), `point ${n}`).toEqual(want)
      for (const r of ["grpo-s1", "pmd-s1"]) expect(trainSteps(join(dir, r)), `point ${n} ${r}`).toEqual([1, 2])
      expect(existsSync(join(dir, "sweep-summary.json"))).toBe(true)
      expect(tempFiles(dir), `point ${n}`).toEqual([])
      const report = cli(["report", dir])
      expect(report.status, `point ${n}: ${report.stderr}`).toBe(0)
    }
    console.log(`sweep crash points covered: ${covered.length} of ${total} (${covered.join(", ")})`)
  }, 1_800_000)
})

describe("disk full", () => {
  it("exits 1 naming the file, leaves no temp file, and resumes to the same hash once space is freed", async () => {
    const root = tmp("enospc")
    const straight = join(root, "straight")
    expect(cli([...RUN, "--out", straight]).status).toBe(0)
    // data write 12 lands in a checkpoint; 4 is a metrics append
    for (const n of [4, 12]) {
      const dir = join(root, `full-${n}`)
      const full = await cliAsync([...RUN, "--out", dir], { PMDSIM_ENOSPC_AT_WRITE: String(n) })
      expect(full.status, full.output).toBe(1)
      expect(full.output).toMatch(/no space left on device writing \S+/)
      expect(tempFiles(dir)).toEqual([])
      const resumed = await cliAsync(["run", "--resume", "--out", dir])
      expect(resumed.status, resumed.output).toBe(0)
      expect(summaryOf(dir).finalStateHash).toBe(summaryOf(straight).finalStateHash)
      expect(trainSteps(dir)).toEqual([1, 2, 3, 4])
    }
  }, 300_000)
})
