/**
 * The library API (src/api, the `pmdsim` entry point): run / replay / fork / report as Effects and
 * Promises give what the CLI gives (same hashes), with plug-ins from the `Plugins` service, and typed
 * failures.
 */
import { describe, expect, it } from "vitest"
import { Effect } from "effect"
import { existsSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { exitCodeOf, fork, isPmdsimError, replay, reportPromise, run, runPromise, withPlugins } from "../../src/api/index.ts"
import { cli, SETS, summaryOf, tmp } from "../experiments/cliHelpers.ts"
import { keepOne } from "./fixtures/keepOne.ts"

const FIXTURE = join(import.meta.dirname, "fixtures", "keepOne.ts")
const sets = (extra: ReadonlyArray<string> = []) => [...SETS, "--set", "steps=2", "--set", "memory.levels=EIB", "--set", "memory.behaviorEvery=1", "--set", "checkpointEvery=1", ...extra]
  .filter((x) => x !== "--set")

describe("library API", () => {
  it("run, replay, fork and report through the API, with a plug-in from the Plugins service; same hash as the CLI", async () => {
    const base = tmp("api")
    const out = join(base, "api")
    const program = Effect.gen(function*() {
      const summary = yield* run({ preset: "tiny", set: sets(["memory.consolidator=keep-one"]), out })
      const replayed = yield* replay({ dir: out })
      const forked = yield* fork({ dir: out, step: 1, set: ["memory.consolidator=pmd", "steps=3"], out: join(base, "fork") })
      return { summary, replayed, forked }
    }).pipe(Effect.provide(withPlugins(keepOne)))
    const { summary, replayed, forked } = await Effect.runPromise(program)
    expect(summary.halted).toBe(false)
    expect(summary.steps).toBe(2)
    expect(summaryOf(out).finalStateHash).toBe(summary.finalStateHash)
    expect(replayed.identical).toBe(true)
    expect(forked.steps).toBe(3)
    // the CLI, given the plug-in as a file, computes the same run
    const viaCli = join(base, "cli")
    const r = cli(["run", "--preset", "tiny", ...sets(["memory.consolidator=keep-one"]).flatMap((s) => ["--set", s]), "--plugin", FIXTURE, "--out", viaCli])
    expect(r.status, r.stderr).toBe(0)
    expect(summaryOf(viaCli).finalStateHash).toBe(summary.finalStateHash)
    const report = await reportPromise({ dir: out })
    expect(existsSync(report.html)).toBe(true)
  })

  it("failures are typed: an unknown plug-in (process-wide registry), a directory that is not a run", async () => {
    const base = tmp("api")
    const e1 = await runPromise({ preset: "tiny", set: ["memory.consolidator=keep-one"], out: join(base, "a") }).then(() => null, (e: unknown) => e)
    expect(isPmdsimError(e1)).toBe(true)
    expect((e1 as { _tag: string })._tag).toBe("ConfigError")
    expect((e1 as Error).message).toContain("memory.consolidator: no consolidator named 'keep-one'")
    expect(exitCodeOf(e1)).toBe(2)
    expect(existsSync(join(base, "a"))).toBe(false)
    mkdirSync(join(base, "b"))
    writeFileSync(join(base, "b", "notes.txt"), "mine")
    const e2 = await runPromise({ preset: "tiny", out: join(base, "b") }).then(() => null, (e: unknown) => e)
    expect((e2 as { _tag: string })._tag).toBe("RunDirError")
    expect(exitCodeOf(e2)).toBe(2)
  })
})
