/**
 * Memory transfer (`memory.importFrom: "RUN_DIR@STEP"`, src/experiments/importMemory.ts): a run starts with
 * another run's memory at a checkpoint as its first version, deterministically, into a model of another
 * width too; restarts before the first checkpoint refuse a changed source, resumes from a checkpoint never
 * read it, fork and replay reproduce the run; every bad value is refused naming the field (exit 2).
 */
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Effect } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import type { RunConfig } from "../../src/config/RunConfig.ts"
import { readRunCheckpoint } from "../../src/experiments/checkpoint.ts"
import { IMPORT_LABEL, readImportedMemory } from "../../src/experiments/importMemory.ts"
import type { EvalRow, MetricsRow, TrainRow } from "../../src/protocol/metrics.ts"
import { runTraining } from "../../src/experiments/run.ts"
import { checkpointDir, FILES, prepareNewRun, readMarker } from "../../src/experiments/runDir.ts"
import { DiskStore } from "../../src/memory/store/disk.ts"
import { VersionedMemory } from "../../src/memory/versioned.ts"
import { cli, cliAsync, SETS, summaryOf, tmp } from "./cliHelpers.ts"
import { freshDir, tinyConfig, train } from "./helpers.ts"

let source: string
let target: { dir: string; hash: string; evals: Array<EvalRow> }

/** The memory a run's checkpoint names: its version (id, content root) and item counts. */
const memoryAt = (dir: string, step: number) => {
  const { run } = readRunCheckpoint(dir, step)
  const store = DiskStore.open(join(dir, FILES.memory)).store
  const version = store.version(run.memoryHead)
  const { state } = new VersionedMemory(store, run.memoryBranch).checkoutAll(run.memoryHead)
  const items = [...state.experience.values()].reduce((n, e) => n + e.successes.length + e.failures.length, 0)
  return { version, items, problems: state.experience.size }
}

/** The first version of a run's memory history (seq 0) on its main branch, and its experience items. */
const firstVersion = (dir: string) => {
  const store = DiskStore.open(join(dir, FILES.memory)).store
  const head = store.head("main")!
  const version = store.log(head.id, head.seq + 1).at(-1)!
  const { state } = new VersionedMemory(store).checkoutAll(version.id)
  return { ...version, items: [...state.experience.values()].flatMap((e) => [...e.successes, ...e.failures]) }
}

const importing = (from: string, sets: ReadonlyArray<string> = []): RunConfig => tinyConfig(["seed=2", `memory.importFrom=${from}`, ...sets])

beforeAll(async () => {
  source = (await train(tinyConfig(["seed=1"]))).dir
  const t = await train(importing(`${source}@4`))
  target = { dir: t.dir, hash: t.summary.finalStateHash, evals: t.rows.filter((r): r is EvalRow => r.kind === "eval") }
}, 120_000)

describe("memory.importFrom starts a run with another run's memory", () => {
  it("the target's first version is the source's memory at that checkpoint, recorded in the marker", () => {
    const src = memoryAt(source, 4)
    expect(src.items).toBeGreaterThan(0)
    const first = firstVersion(target.dir)
    expect(first.seq).toBe(0)
    expect(first.meta).toEqual({ step: 0, policyVersion: 0, label: IMPORT_LABEL })
    // the same items, their rollout ids renamed (the target's own rollouts reuse the source's ids)
    expect(first.items.length).toBe(src.items)
    expect(first.items.every((i) => i.id.startsWith("import/s0000") && i.prov.rolloutId === i.id)).toBe(true)
    const marker = readMarker(target.dir)
    expect(marker.memoryImport).toMatchObject({ dir: source, step: 4, sourceVersion: src.version.id, contentId: first.root })
    expect(marker.memoryImport!.entries).toBe(src.problems)
    // the checkpoint at step 2 holds a history that starts with the import
    const at2 = memoryAt(target.dir, 2)
    expect(at2.items).toBeGreaterThanOrEqual(src.items)
  })

  it("it is the run's version 1: the policy is untouched at step 0, and the teacher's versions count the import", async () => {
    const plain = await train(tinyConfig(["seed=2"]))
    const plainEvals = plain.rows.filter((r): r is EvalRow => r.kind === "eval" && r.step === 0)
    const mine = target.evals.filter((r) => r.step === 0)
    expect(mine.map((r) => r.memoryFree)).toEqual(plainEvals.map((r) => r.memoryFree))
    const firstTrain = (rows: ReadonlyArray<MetricsRow>) => rows.find((r): r is TrainRow => r.kind === "train" && r.step === 1)!
    const t = await train(importing(`${source}@4`))
    expect(firstTrain(t.rows).memoryVersionNewest).toBe(firstTrain(plain.rows).memoryVersionNewest + 1)
    expect(firstTrain(t.rows).memoryVersionRead).toBe(firstTrain(plain.rows).memoryVersionRead + 1)
    expect(firstTrain(t.rows).memorySizes.experience).toBeGreaterThan(firstTrain(plain.rows).memorySizes.experience)
    expect(plain.summary.finalStateHash).not.toBe(target.hash)
    // deterministic: the same import again gives the same final state hash
    expect(t.summary.finalStateHash).toBe(target.hash)
    // "none" is the absent value: the same run bit for bit
    const none = await train(tinyConfig(["seed=2", "memory.importFrom=none"]))
    expect(none.summary.finalStateHash).toBe(plain.summary.finalStateHash)
  }, 60_000)


  it.each([["pmd"], ["vanilla"]])("carries every level: insights, the behavior bank or the Memp store (memory.update=%s)", async (update) => {
    const sets = ["memory.levels=EIB", `memory.update=${update}`]
    const src = (await train(tinyConfig(["seed=1", ...sets]))).dir
    const t = await train(importing(`${src}@4`, sets))
    const count = (dir: string, version: string) => {
      const store = DiskStore.open(join(dir, FILES.memory)).store
      const { state, memp } = new VersionedMemory(store).checkoutAll(version)
      const insights = [...state.insights.values()].reduce((n, i) => n + i.strategies.length + i.lessons.length, 0)
      return { insights, behaviors: state.bank.behaviors.length, memp: memp.items.map((i) => i.id) }
    }
    const before = count(src, readRunCheckpoint(src, 4).run.memoryHead)
    const after = count(t.dir, firstVersion(t.dir).id)
    expect(before.insights).toBeGreaterThan(0)
    expect(before.behaviors + before.memp.length).toBeGreaterThan(0)
    expect({ ...after, memp: after.memp.length }).toEqual({ ...before, memp: before.memp.length })
    expect(after.memp.every((id) => id.startsWith("memp-import/"))).toBe(true)
  }, 60_000)

  it("works into a model of another width, with the same memory", async () => {
    const wide = await train(importing(`${source}@4`, ["model.dModel=32", "model.dMlp=128"]))
    expect(wide.summary.finalStateHash).not.toBe(target.hash)
    expect(readMarker(wide.dir).memoryImport!.contentId).toBe(readMarker(target.dir).memoryImport!.contentId)
    expect(firstVersion(wide.dir).root).toBe(firstVersion(target.dir).root)
  }, 60_000)
})

describe("resume, fork and replay of a run that imported memory", () => {
  it("a restart before the first checkpoint imports again and ends where the uninterrupted run ends", async () => {
    const dir = freshDir("import-halt")
    await train(importing(`${source}@4`), dir, { haltAfter: 1 })
    const resumed = await Effect.runPromise(runTraining({ cfg: importing(`${source}@4`), dir, resume: true }))
    expect(resumed.finalStateHash).toBe(target.hash)
  }, 60_000)

  it("a restart before the first checkpoint is refused when the source's memory changed", async () => {
    const src = freshDir("import-src")
    await train(tinyConfig(["seed=1"]), src)
    const dir = freshDir("import-changed")
    await train(importing(`${src}@4`), dir, { haltAfter: 1 })
    // the source is rerun at another seed: its step-4 checkpoint now holds another memory
    prepareNewRun(src, true)
    await train(tinyConfig(["seed=3"]), src)
    await expect(Effect.runPromise(runTraining({ cfg: importing(`${src}@4`), dir, resume: true }))).rejects.toThrow(/not the one this run started with/)
  }, 90_000)

  it("a resume from a checkpoint uses the run's own copy: the source may be gone", async () => {
    const copy = join(tmp("import-copy"), "src")
    cpSync(source, copy, { recursive: true })
    const dir = freshDir("import-resume")
    await train(importing(`${copy}@4`), dir, { haltAfter: 3 }) // checkpoint at step 2, halted after 3
    rmSync(copy, { recursive: true, force: true })
    const resumed = await Effect.runPromise(runTraining({ cfg: importing(`${copy}@4`), dir, resume: true }))
    // the state hashes cover the memory, not the path it was read from: the target's run, bit for bit
    expect(resumed.finalStateHash).toBe(target.hash)
  }, 90_000)

  it("a crash right after its marker, before its first checkpoint or mid-run resumes to the same final state hash", async () => {
    const root = tmp("import-crash")
    const args = ["run", "--preset", "tiny", ...SETS, "--set", "seed=2", "--set", `memory.importFrom=${source}@4`]
    const trace = join(root, "trace.txt")
    const straight = cli([...args, "--out", join(root, "straight")], { PMDSIM_WRITE_TRACE: trace })
    expect(straight.status, straight.stderr).toBe(0)
    expect(summaryOf(join(root, "straight")).finalStateHash).toBe(target.hash)
    const total = Math.max(...readFileSync(trace, "utf8").trim().split("\n").map((l) => Number(l.split(" ")[1])))
    // 1: the marker, 3: the first metrics append (before any checkpoint: a restart imports again); mid-run: after one
    for (const n of [1, 3, Math.ceil(total / 2)]) {
      const dir = join(root, `crash-${n}`)
      const crashed = await cliAsync([...args, "--out", dir], { PMDSIM_CRASH_AT_WRITE: String(n) })
      expect(crashed.signal, `point ${n}: ${crashed.output}`).toBe("SIGKILL")
      const started = existsSync(join(dir, FILES.marker))
      const recovered = started ? await cliAsync(["run", "--resume", "--out", dir]) : await cliAsync([...args, "--out", dir])
      expect(recovered.status, `point ${n}: ${recovered.output}`).toBe(0)
      expect(summaryOf(dir).finalStateHash, `point ${n}`).toBe(target.hash)
    }
  }, 180_000)

  it("fork at step 2 and replay reproduce the run (exit 0); a fork that changes the field is refused", () => {
    const out = join(tmp("import-fork"), "fork")
    const f = cli(["fork", target.dir, "--step", "2", "--out", out])
    expect(f.status, f.stderr + f.stdout).toBe(0)
    expect(summaryOf(out).finalStateHash).toBe(target.hash)
    const r = cli(["replay", target.dir])
    expect(r.status, r.stderr + r.stdout).toBe(0)
    // a fork never imports: changing the field would make its config claim a memory it does not have
    const changed = cli(["fork", target.dir, "--step", "2", "--set", "memory.importFrom=none", "--out", join(tmp("import-fork"), "changed")])
    expect(changed.status).toBe(2)
    expect(changed.stderr).toMatch(/memory\.importFrom: a fork starts from its source's memory/)
  }, 90_000)
})

describe("bad values are refused naming memory.importFrom", () => {
  const refusal = (from: string, sets: ReadonlyArray<string> = [], dir = freshDir("import-bad")): string => {
    try {
      readImportedMemory(importing(from, sets), dir)
    } catch (e) {
      expect((e as { _tag?: string })._tag).toBe("ConfigError")
      return (e as Error).message
    }
    throw new Error("not refused")
  }

  it("a directory that is not a run, a missing step, the run itself", () => {
    expect(refusal(`${tmp("import-empty")}@4`)).toMatch(/^memory\.importFrom: .* is not a pmdsim run directory/)
    expect(refusal(`${join(tmp("import-none"), "nothing")}@4`)).toMatch(/^memory\.importFrom: .*no such run directory/)
    expect(refusal(`${source}@3`)).toMatch(/^memory\.importFrom: .* has no checkpoint at step 3 \(available: 2, 4\)/)
    expect(refusal(`${source}@4`, [], source)).toMatch(/^memory\.importFrom: .* this run's own directory/)
  })

  it("another domain, another benchmark, another vocabulary, a method without memory", () => {
    expect(refusal(`${source}@4`, ["domain=science"])).toMatch(/^memory\.importFrom: .*another benchmark .*domain code.*this run: domain science/)
    expect(refusal(`${source}@4`, ["domainOptions.clusters=5"])).toMatch(/another benchmark/)
    expect(refusal(`${source}@4`, ["domainSeed=7"])).toMatch(/another benchmark/)
    const other = join(tmp("import-vocab"), "src")
    cpSync(source, other, { recursive: true })
    const model = join(checkpointDir(other, 4), "model.json")
    const json = JSON.parse(readFileSync(model, "utf8")) as { userDefinedMetadata: { pmdsim: { config: { vocabSize: number } } } }
    json.userDefinedMetadata.pmdsim.config.vocabSize = 90
    writeFileSync(model, JSON.stringify(json))
    expect(refusal(`${other}@4`)).toMatch(/^memory\.importFrom: .*vocabulary of 90 tokens/)
    expect(refusal(`${source}@4`, ["method=grpo"])).toMatch(/^memory\.importFrom: method grpo keeps no memory/)
    expect(refusal(`${source}@4`, ["method=pmd-transient"])).toMatch(/method pmd-transient keeps no memory/)
  })

  it("through the CLI: exit 2, the field named, nothing left behind", () => {
    const malformed = cli(["run", "--preset", "tiny", ...SETS, "--set", "memory.importFrom=runs/x", "--out", join(tmp("import-cli"), "a")])
    expect(malformed.status).toBe(2)
    expect(malformed.stderr).toMatch(/memory\.importFrom: expected "RUN_DIR@STEP"/)
    const out = join(tmp("import-cli"), "b")
    const missing = cli(["run", "--preset", "tiny", ...SETS, "--set", `memory.importFrom=${source}@3`, "--out", out])
    expect(missing.status).toBe(2)
    expect(missing.stderr).toMatch(/memory\.importFrom: .*no checkpoint at step 3/)
    // refused before the marker: the directory is not a run, so a corrected command needs no --force
    const fixed = cli(["run", "--preset", "tiny", ...SETS, "--set", "steps=1", "--set", `memory.importFrom=${source}@2`, "--out", out])
    expect(fixed.status, fixed.stderr).toBe(0)
  }, 60_000)
})
