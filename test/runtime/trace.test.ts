/**
 * `--trace`: a Chrome trace-event file of what ran when (src/runtime/Trace.ts). A traced tiny run gives the
 * untraced run's final state hash (times never reach results), one "step" slice per step on the run's
 * track, a slice per handled message on each actor's track with the versions it carried, a file
 * Perfetto can open (named threads, complete events with non-negative times), and a link in the report.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { chromeTrace, versionArgs } from "../../src/runtime/Trace.ts"
import { cli, SETS, summaryOf, tmp } from "../experiments/cliHelpers.ts"

interface TraceEvent { ph: string; name: string; cat?: string; tid: number; ts?: number; dur?: number; args: Record<string, unknown> }

describe("trace", () => {
  it("a traced run keeps its hash and records every step and actor message", () => {
    const root = tmp("trace")
    const plain = join(root, "plain")
    const traced = join(root, "traced")
    expect(cli(["run", "--preset", "tiny", ...SETS, "--out", plain]).status).toBe(0)
    const r = cli(["run", "--preset", "tiny", ...SETS, "--trace", "--out", traced])
    expect(r.status, r.stderr).toBe(0)
    expect(summaryOf(traced).finalStateHash).toBe(summaryOf(plain).finalStateHash)
    const events = (JSON.parse(readFileSync(join(traced, "trace.json"), "utf8")) as { traceEvents: Array<TraceEvent> }).traceEvents
    const tracks = new Map(events.filter((e) => e.ph === "M" && e.name === "thread_name").map((e) => [e.tid, (e.args as { name: string }).name]))
    expect([...tracks.values()].sort()).toEqual(["memory", "policy", "run", "teacher", "verifier"])
    const slices = events.filter((e) => e.ph === "X")
    for (const s of slices) {
      expect(s.ts!).toBeGreaterThanOrEqual(0)
      expect(s.dur!).toBeGreaterThanOrEqual(0)
      expect(tracks.get(s.tid)).toBe(s.cat)
    }
    expect(slices.filter((s) => s.cat === "run" && s.name === "step").map((s) => s.args["step"])).toEqual([1, 2, 3, 4])
    expect(slices.filter((s) => s.cat === "policy" && s.name === "Update")).toHaveLength(4)
    const teach = slices.filter((s) => s.cat === "teacher" && s.name === "Teach")
    // a Teach request carries the loop state it was asked from: the steps completed before it
    expect(teach.map((s) => s.args["step"])).toEqual([0, 1, 2, 3])
    expect(teach.every((s) => typeof s.args["reply.memorySeq"] === "number")).toBe(true)
    // the report links the trace; an untraced run's report has no link
    expect(readFileSync(join(traced, "report.html"), "utf8")).toContain(`<a href="trace.json">trace.json</a>`)
    expect(readFileSync(join(plain, "report.html"), "utf8")).not.toContain(`href="trace.json"`)
  }, 120_000)

  it("versions are read from a message, its request and its pinned memory", () => {
    expect(versionArgs("", { _tag: "Teach", request: { step: 3, memory: { seq: 2 } } })).toEqual({ step: 3, memorySeq: 2 })
    expect(versionArgs("reply.", { policyVersion: 5, results: [] })).toEqual({ "reply.policyVersion": 5 })
    expect(versionArgs("", "text")).toEqual({})
  })

  it("chromeTrace names one thread per track and starts time at the first slice", () => {
    const t = chromeTrace([
      { track: "policy", name: "Sample", startUs: 100, durUs: 5, args: {} },
      { track: "run", name: "step", startUs: 90, durUs: 30, args: { step: 1 } }
    ], "p")
    const threads = t.traceEvents.filter((e) => e["name"] === "thread_name").map((e) => [e["tid"], (e["args"] as { name: string }).name])
    expect(threads).toEqual([[1, "policy"], [2, "run"]])
    expect(t.traceEvents.filter((e) => e["ph"] === "X").map((e) => e["ts"])).toEqual([10, 0])
  })
})
