/**
 * `pmdsim memory-replay RUN --out DIR [--set memory.X=V ...] [--plugin FILE ...] [--json]`: RUN's memory rebuilt
 * from its recorded memory calls (rollouts.jsonl) without the policy, through the memory pipeline RUN's config
 * names (or the `memory.*` fields --set changes, with plug-ins --plugin loads), into DIR (its snapshot store and
 * diff.json; RUN is only read), and compared with RUN's memory version by version
 * (src/experiments/memoryReplay/). Prints a table of the steps that differ, or --json the whole comparison.
 * Exit 0 whatever the differences; 2 for bad input (a missing run or rollouts.jsonl, a --set outside memory.*
 * or a bad value, an unknown plug-in, an --out that is not ours), 3 for an --out holding a replay of other inputs.
 */
import { Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { type MemoryReplayResult, runMemoryReplay, type VersionRow } from "../../experiments/memoryReplay/index.ts"
import { loadPluginFiles } from "../../plugins/load.ts"
import { defaultRegistry } from "../../plugins/registry.ts"
import { pluginFlag } from "./run.ts"

const table = (head: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): Array<string> => {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (r: ReadonlyArray<string>) => r.map((c, i) => c.padEnd(w[i]!)).join("  ").trimEnd()
  return [line(head), ...rows.map(line)]
}

const short = (v: VersionRow["run"]): string => (v === null ? "empty" : `${v.seq} ${v.id.slice(0, 12)}`)
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`

/** The human summary: header lines, then one row per step whose memory (or the teacher's view of it) differs. */
export const formatMemoryReplay = (r: MemoryReplayResult): string => {
  const sets = r.sets.length === 0 ? "none" : r.sets.join(" ")
  const plugins = Object.entries(r.plugins).map(([k, v]) => `${k}=${v}`).join(", ")
  const stepRows = r.rows.filter((x, i) => r.rows[i + 1] === undefined || r.rows[i + 1]!.step !== x.step)
  const differing = stepRows.filter((x) => !x.same || (x.retrieval !== null && x.retrieval.overlap < 1))
  const firstDiff = r.rows.find((x) => !x.same)
  const out = [
    `memory replay of ${r.run} into ${r.out}: ${r.steps} recorded steps replayed${r.from > 0 ? ` from the fork step ${r.from}` : ""} (sets: ${sets}; ${plugins})`,
    r.identical
      ? `identical: every one of the run's ${r.versions.run} snapshot ids is reproduced, in order`
      : `differs: run ${r.versions.run} versions, replay ${r.versions.replay}` +
        (firstDiff === undefined ? "" : `; first at step ${firstDiff.step} (${firstDiff.label})`),
    `final memory, replay against run: +${r.final.added} added, -${r.final.removed} removed, ~${r.final.changed} changed items; ` +
      `mean retrieval overlap ${r.final.retrievalOverlap === null ? "– (no step read memory)" : pct(r.final.retrievalOverlap)}`
  ]
  if (differing.length > 0) {
    out.push("", "memory at the end of each step that differs (items: replay against run; overlap: the teacher's view of the version it pinned, Jaccard, mean over the step's problems):")
    out.push(...table(["step", "run version", "replay version", "added", "removed", "changed", "retrieval overlap"],
      differing.map((x) => [String(x.step), short(x.run), short(x.replay), String(x.added), String(x.removed), String(x.changed), x.retrieval === null ? "–" : pct(x.retrieval.overlap)])))
    const hidden = stepRows.length - differing.length
    if (hidden > 0) out.push(`(${hidden} step${hidden === 1 ? "" : "s"} with the same memory not shown; every version: --json or ${r.out}/diff.json)`)
  }
  return out.join("\n")
}

export const memoryReplayCommand = Command.make("memory-replay", {
  run: Argument.String("run"),
  out: Flag.String("out").pipe(Flag.withDescription("output directory: new, or a previous memory-replay output of the same inputs (never the run)")),
  set: Flag.String("set").pipe(Flag.atLeast(0), Flag.withDescription("change a memory.* field of the run's config: --set memory.bankCapacity=8 (repeatable)")),
  plugin: pluginFlag,
  json: Flag.Boolean("json").pipe(Flag.withDefault(false), Flag.withDescription("print the whole comparison (every version) as JSON"))
}, (f) =>
  Effect.gen(function*() {
    yield* loadPluginFiles(f.plugin)
    const result = yield* runMemoryReplay({ run: f.run, out: f.out, sets: f.set, registry: defaultRegistry })
    console.log(f.json ? JSON.stringify(result, null, 2) : formatMemoryReplay(result))
  })).pipe(Command.withDescription("rebuild a run's memory from its recorded rollouts without the policy (optionally with another memory pipeline) and diff it against the run's"))
