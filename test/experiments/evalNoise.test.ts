/**
 * Evaluation streams and their noise: common random numbers across methods at one seed, `eval.seed`
 * keying every evaluation stream, and `pmdsim eval-noise` (K evaluation seeds of one checkpoint, written
 * to eval-noise.json, nothing else touched).
 *
 * These runs start from the committed base (tiny preset, base "warmup"), not from scratch weights: a
 * scratch policy solves nothing, so every evaluation row would be 0 and any two would be equal.
 */
import { Effect } from "effect"
import { createHash } from "node:crypto"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { resolveConfig, resultFieldDiff, resultHash, validateConfig } from "../../src/config/resolve.ts"
import type { RunConfig } from "../../src/config/RunConfig.ts"
import { evaluateCheckpoint } from "../../src/experiments/evalNoise.ts"
import { readRunConfig } from "../../src/experiments/resume.ts"
import type { EvalRow, MetricsRow } from "../../src/protocol/metrics.ts"
import { parseEvalNoise, readEvalNoise } from "../../src/report/load.ts"
import { cli, tmp } from "./cliHelpers.ts"
import { train } from "./helpers.ts"

const tinyBase = (method: RunConfig["method"], evalSeed?: number): RunConfig => {
  const cfg = resolveConfig({ preset: "tiny", sets: ["steps=1", "checkpointEvery=1"], overrides: { method } })
  return evalSeed === undefined ? cfg : { ...cfg, eval: { ...cfg.eval, seed: evalSeed } }
}

/** A row's figures without the reflector quality (that reads memory contents, not evaluation streams). */
const figures = (r: EvalRow) => ({ step: r.step, protocol: r.protocol, problems: r.problems, memoryFree: r.memoryFree, memoryAugmented: r.memoryAugmented })
const evalRowsAt = (rows: ReadonlyArray<MetricsRow>, step: number): Array<EvalRow> =>
  rows.filter((r): r is EvalRow => r.kind === "eval" && r.step === step)
const memoryFreeAt0 = (rows: ReadonlyArray<MetricsRow>) => evalRowsAt(rows, 0).map((r) => ({ protocol: r.protocol, problems: r.problems, memoryFree: r.memoryFree }))

/** sha-256 of every file under `dir`, by relative path. */
const hashTree = (dir: string, prefix = ""): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const name of readdirSync(join(dir, prefix)).sort()) {
    const rel = prefix === "" ? name : join(prefix, name)
    if (statSync(join(dir, rel)).isDirectory()) Object.assign(out, hashTree(dir, rel))
    else out[rel] = createHash("sha256").update(readFileSync(join(dir, rel))).digest("hex")
  }
  return out
}

describe("evaluation seed", () => {
  it("is optional (an old config.json stays valid) and a result field", () => {
    const cfg = tinyBase("pmd")
    expect(cfg.eval.seed).toBeUndefined()
    // a config.json written before the field existed
    expect(validateConfig(JSON.parse(JSON.stringify(cfg)), "old config.json")).toEqual(cfg)
    expect(() => validateConfig({ ...cfg, eval: { ...cfg.eval, seed: -1 } }, "bad")).toThrow(/eval[\s\S]*seed/)
    expect(resultFieldDiff(cfg, tinyBase("pmd", 7))).toEqual(["eval.seed"])
    expect(resultHash(tinyBase("pmd", 7))).not.toBe(resultHash(cfg))
  })

  it("common random numbers: GRPO and PMD at one seed give bit-identical step-0 evaluations; another eval.seed gives others", async () => {
    const grpo = await train(tinyBase("grpo"))
    const pmd = await train(tinyBase("pmd"))
    const rows = memoryFreeAt0(pmd.rows)
    expect(rows.map((r) => r.protocol)).toEqual(["internalization", "transfer"])
    // not vacuous: the base solves some problems, so the rows carry the streams' draws
    expect(rows.every((r) => r.memoryFree.avgAtK > 0)).toBe(true)
    expect(memoryFreeAt0(grpo.rows)).toEqual(rows)
    // eval.seed equal to the run seed is the same as absent
    expect(memoryFreeAt0((await train(tinyBase("pmd", pmd.summary.seed))).rows)).toEqual(rows)
    const other = await train(tinyBase("pmd", 7))
    expect(memoryFreeAt0(other.rows)).not.toEqual(rows)
    // the evaluation seed never reaches training: the same train row and final state hash (which covers
    // training only; the journal's eval entries, which replay checks, do change)
    const trainOf = (rs: ReadonlyArray<MetricsRow>) => rs.filter((r) => r.kind === "train").map((r) => ({ ...r, stageMs: {}, rolloutsPerSec: 0, tokensPerSec: 0 }))
    expect(trainOf(other.rows)).toEqual(trainOf(pmd.rows))
    expect(other.summary.finalStateHash).toBe(pmd.summary.finalStateHash)
  })
})

describe("pmdsim eval-noise", () => {
  it("evaluates a checkpoint under K evaluation seeds into eval-noise.json, leaves every other file as it was, and exits 2 on a missing step", async () => {
    const dir = join(tmp("eval-noise"), "run")
    const r = cli(["run", "--preset", "tiny", "--set", "steps=2", "--out", dir])
    expect(r.status, r.stderr).toBe(0)
    const before = hashTree(dir)

    const out = cli(["eval-noise", dir, "--seeds", "3"])
    expect(out.status, out.stderr).toBe(0)
    expect(out.stdout).toMatch(/at step 2: 3 evaluation seeds \(1000, 1001, 1002\)/)
    expect(out.stdout).toMatch(/internalization\s+memory-free avg@k\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+/)
    const { "eval-noise.json": written, ...after } = hashTree(dir)
    expect(written).toBeDefined()
    expect(after).toEqual(before)

    const noise = readEvalNoise(dir)!
    expect(noise.step).toBe(2)
    expect(noise.entries.map((e) => e.evalSeed)).toEqual([1000, 1001, 1002])
    const free = noise.summary.find((s) => s.protocol === "internalization" && s.metric === "memoryFree.avgAtK")!
    expect(free.n).toBe(3)
    // not vacuous: evaluation under other seeds moves the number
    expect(free.max).toBeGreaterThan(free.min)

    // the setup is the run's own: at the run seed the checkpoint gives the rows the run wrote at that step,
    // and each evaluation depends on its seed only (not on the seeds evaluated before it)
    const cfg = readRunConfig(dir)
    const again = await Effect.runPromise(evaluateCheckpoint(dir, cfg, 2, [1001, cfg.seed]))
    const metrics = readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as MetricsRow)
    expect(again.entries[1]!.rows.map(figures)).toEqual(evalRowsAt(metrics, 2).map(figures))
    expect(again.entries[0]!.rows.map(figures)).toEqual(noise.entries[1]!.rows.map(figures))

    const json = cli(["eval-noise", dir, "--seeds", "2", "--json"])
    expect(json.status, json.stderr).toBe(0)
    expect((JSON.parse(json.stdout) as { entries: Array<unknown> }).entries).toHaveLength(2)

    const missing = cli(["eval-noise", dir, "--step", "1"])
    expect(missing.status).toBe(2)
    expect(missing.stderr).toMatch(/no checkpoint at step 1 \(available: 2\)/)
    expect(cli(["eval-noise", dir, "--seeds", "0"]).status).toBe(2)
    expect(cli(["eval-noise", join(dir, "nope")]).status).toBe(2)
    const { "eval-noise.json": _, ...afterAll } = hashTree(dir)
    expect(afterAll).toEqual(before)
  })
})

describe("pmdsim eval-noise --memory-step (a reader x memory cross evaluation)", () => {
  it("evaluates one checkpoint's policy on another checkpoint's memory, into its own file, and reproduces the run's rows where the reader is the same", async () => {
    // a frozen policy: the reader is the same network at steps 1 and 2, so the policy of step 2 reading the
    // memory of step 1 must give exactly the rows the run wrote at step 1, and only the memory explains a change
    const dir = join(tmp("eval-cross"), "run")
    const r = cli(["run", "--preset", "tiny", "--method", "frozen-policy", "--set", "steps=2", "--set", "checkpointEvery=1", "--set", "eval.every=1",
      // one training problem per cluster: the evaluated problems are the ones the memory fills up with
      "--set", "domainOptions.trainPerCluster=1", "--out", dir])
    expect(r.status, r.stderr).toBe(0)
    const before = hashTree(dir)
    const cfg = readRunConfig(dir)
    const metrics = readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as MetricsRow)
    const atStep = (step: number) => evalRowsAt(metrics, step).map(figures).map((f) => ({ ...f, step: 0 }))
    // not vacuous: the memory grew between the two steps and changed what the reader solves
    expect(atStep(1).map((f) => f.memoryAugmented)).not.toEqual(atStep(2).map((f) => f.memoryAugmented))

    const cross = await Effect.runPromise(evaluateCheckpoint(dir, cfg, 2, [cfg.seed], 1))
    expect(cross.entries[0]!.rows.map(figures).map((f) => ({ ...f, step: 0 }))).toEqual(atStep(1))
    const own = await Effect.runPromise(evaluateCheckpoint(dir, cfg, 1, [cfg.seed], 2))
    expect(own.entries[0]!.rows.map(figures).map((f) => ({ ...f, step: 0 }))).toEqual(atStep(2))

    const out = cli(["eval-noise", dir, "--step", "2", "--memory-step", "1", "--seeds", "2"])
    expect(out.status, out.stderr).toBe(0)
    expect(out.stdout).toMatch(/at step 2 reading the memory of step 1: 2 evaluation seeds/)
    expect(out.stdout).toMatch(/written: .*eval-noise-step-2-memory-1\.json/)
    const { "eval-noise-step-2-memory-1.json": written, ...after } = hashTree(dir)
    expect(written).toBeDefined()
    // the run's own eval-noise.json (the report's) is neither written nor replaced by a cross evaluation
    expect(after).toEqual(before)
    const file = parseEvalNoise(readFileSync(join(dir, "eval-noise-step-2-memory-1.json"), "utf8"), "cross")
    expect([file.step, file.memoryStep]).toEqual([2, 1])

    const missing = cli(["eval-noise", dir, "--step", "2", "--memory-step", "3"])
    expect(missing.status).toBe(2)
    expect(missing.stderr).toMatch(/no checkpoint at step 3 to read the memory of \(--memory-step\) \(available: 1, 2\)/)
    expect(cli(["eval-noise", dir, "--memory-step", "-1"]).status).toBe(2)
  })

  it("refuses a PMD-Transient run, whose memory is never stored (exit 2)", () => {
    const dir = join(tmp("eval-cross-transient"), "run")
    expect(cli(["run", "--preset", "tiny", "--method", "pmd-transient", "--set", "steps=2", "--set", "checkpointEvery=1", "--out", dir]).status).toBe(0)
    const r = cli(["eval-noise", dir, "--step", "2", "--memory-step", "1"])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/pmd-transient run, whose memory is rebuilt from each step's batch and never stored/)
  })
})

