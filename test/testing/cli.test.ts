/**
 * `--plugin` on the CLI: an unknown plug-in name is refused (exit 2, naming the field and the registered
 * names) before the run directory is touched; a plug-in file makes the name known to run and replay.
 */
import { describe, expect, it } from "vitest"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { cli, SETS, tmp } from "../experiments/cliHelpers.ts"

const FIXTURE = join(import.meta.dirname, "fixtures", "keepOne.ts")
const EIB = [...SETS, "--set", "steps=2", "--set", "memory.levels=EIB", "--set", "memory.behaviorEvery=1", "--set", "checkpointEvery=2"]
const behaviorsPerStep = (dir: string): Array<number> =>
  readFileSync(join(dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { kind: string; memorySizes?: { behaviors: number } })
    .filter((r) => r.kind === "train").map((r) => r.memorySizes!.behaviors)

describe("pmdsim --plugin", () => {
  it("an unknown plug-in name: exit 2, the field and the registered names, no run directory", () => {
    const out = join(tmp("plugin"), "run")
    const r = cli(["run", "--preset", "tiny", ...EIB, "--set", "memory.consolidator=keep-one", "--out", out])
    expect(r.status).toBe(2)
    expect(r.stderr).toContain("memory.consolidator: no consolidator named 'keep-one' is registered (registered: pmd)")
    expect(existsSync(out)).toBe(false)
    const missing = cli(["run", "--preset", "tiny", "--plugin", "./no-such-plugin.js", "--out", out])
    expect(missing.status).toBe(2)
    expect(missing.stderr).toMatch(/--plugin .*no-such-plugin\.js: no such file/)
  })

  it("run and replay with a plug-in file; replay without it is refused", () => {
    const base = tmp("plugin")
    const mine = join(base, "keep-one")
    const r = cli(["run", "--preset", "tiny", ...EIB, "--set", "memory.consolidator=keep-one", "--plugin", FIXTURE, "--out", mine])
    expect(r.status, r.stderr).toBe(0)
    expect(JSON.parse(readFileSync(join(mine, "config.json"), "utf8")).memory.consolidator).toBe("keep-one")
    // the built-in keeps several behaviors on the same run; keep-one at most one
    const builtin = join(base, "pmd")
    expect(cli(["run", "--preset", "tiny", ...EIB, "--out", builtin]).status).toBe(0)
    expect(Math.max(...behaviorsPerStep(builtin))).toBeGreaterThan(1)
    expect(Math.max(...behaviorsPerStep(mine))).toBe(1)
    const replay = cli(["replay", mine, "--plugin", FIXTURE])
    expect(replay.status, replay.stdout + replay.stderr).toBe(0)
    const without = cli(["replay", mine])
    expect(without.status).toBe(2)
    expect(without.stderr).toContain("no consolidator named 'keep-one'")
  })

  it("study and eval-noise take --plugin too: names checked before any run, a missing file exits 2", () => {
    const base = tmp("plugin")
    const studyFile = join(base, "keep-one-study.json")
    const set = { "base": "scratch", "eval.problems": 4, "domainOptions.clusters": 4, "domainOptions.trainPerCluster": 4, "domainOptions.heldoutPerCluster": 2, "steps": 2, "memory.levels": "EIB", "memory.behaviorEvery": 1, "checkpointEvery": 2, "memory.consolidator": "keep-one" }
    writeFileSync(studyFile, JSON.stringify({
      question: "keep-one with two bank capacities",
      sweep: { preset: "tiny", set, methods: ["pmd"], seeds: [1, 2], knobs: { "memory.bankCapacity": [100, 200] } },
      claims: [{ id: "cap", statement: "a larger bank", metric: "internalization avg@k", better: "pmd memory.bankCapacity=200", worse: "pmd memory.bankCapacity=100" }]
    }))
    const out = join(base, "study")
    const unknown = cli(["study", studyFile, "--out", out])
    expect(unknown.status, unknown.stdout + unknown.stderr).toBe(2)
    expect(unknown.stderr).toContain("no consolidator named 'keep-one'")
    expect(existsSync(out)).toBe(false)
    const missing = cli(["study", studyFile, "--plugin", "./no-such-plugin.js", "--out", out])
    expect(missing.status).toBe(2)
    expect(missing.stderr).toMatch(/--plugin .*no-such-plugin\.js: no such file/)

    const run = join(base, "run")
    expect(cli(["run", "--preset", "tiny", ...EIB, "--set", "memory.consolidator=keep-one", "--plugin", FIXTURE, "--out", run]).status).toBe(0)
    const noiseMissing = cli(["eval-noise", run, "--seeds", "1", "--plugin", "./no-such-plugin.js"])
    expect(noiseMissing.status).toBe(2)
    expect(noiseMissing.stderr).toMatch(/--plugin .*no-such-plugin\.js: no such file/)
    const noise = cli(["eval-noise", run, "--seeds", "1", "--plugin", FIXTURE])
    expect(noise.status, noise.stdout + noise.stderr).toBe(0)
    expect(existsSync(join(run, "eval-noise.json"))).toBe(true)
  })
})
