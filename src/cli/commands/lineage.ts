/**
 * `pmdsim lineage RUN [--item ID] [--json] [--top N]`: what the run's memory items taught, from its
 * lineage.jsonl (src/report/lineageFile.ts). Read-only.
 *
 * Without --item: the items ranked by what they taught (src/report/lineageRank.ts, the one implementation
 * the report uses too): for each item and each problem it was shown for, the change in the student's
 * memory-free success on that problem (the solved fraction of the student's own rollouts of it after the
 * step the item was first shown for it, minus up to and including that step), weighted by the times the
 * teacher was shown the item for that problem and summed: "taught". Items whose problems were never sampled
 * again cannot be measured; they are counted, not ranked.
 * With --item: its provenance (the rollouts it was made from: step, policy version, reward), every rollout
 * whose teacher context held it (step, rollout id, problem, reward), and per problem the student's
 * memory-free success before and after.
 * --json prints the same as JSON. A missing run directory or lineage file, a damaged line and an unknown
 * item are typed errors (exit 2) naming the directory, the file (and line) or the item.
 */
import { Effect, Option, Schema } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { existsSync, statSync } from "node:fs"
import { join } from "node:path"
import { FILES, RunDirError } from "../../experiments/runDir.ts"
import { LINEAGE_FILE, readLineageFile } from "../../report/lineageFile.ts"
import { formatDelta, indexLineage, type ItemLineage, RANKING_DEFINITION, rankItems, type Ranking, type Rate } from "../../report/lineageRank.ts"

/** An --item the run's lineage never names (exit 2). */
export class LineageItemError extends Schema.TaggedError<LineageItemError>()("LineageItemError", { item: Schema.String, file: Schema.String }) {
  override get message(): string {
    return `item ${JSON.stringify(this.item)} does not appear in ${this.file} (neither created nor shown to the teacher)`
  }
}

export const DEFAULT_TOP = 20

const table = (head: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): Array<string> => {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (r: ReadonlyArray<string>) => r.map((c, i) => c.padEnd(w[i]!)).join("  ").trimEnd()
  return [line(head), ...rows.map(line)]
}
const num = (x: number | null, digits = 2): string => (x === null ? "–" : x.toFixed(digits))
const rateText = (r: Rate): string => (r.rollouts === 0 ? "–" : `${r.solved}/${r.rollouts} (${((100 * r.solved) / r.rollouts).toFixed(1)}%)`)

export const formatRanking = (dir: string, r: Ranking): string => {
  const rows = r.ranked.map((it, i) => [
    String(i + 1), it.id, it.kind, String(it.timesShown), String(it.problems.filter((p) => p.delta !== null).length) + "/" + String(it.problems.length),
    formatDelta(it.meanDelta), num(it.taught)
  ])
  return [
    `memory lineage of ${dir}: ${r.steps} steps, ${r.shownItems} items shown to the teacher, ${r.shownItems - r.unmeasurable} measurable` +
      (r.unmeasurable === 0 ? "" : ` (${r.unmeasurable} only for problems never sampled again)`),
    RANKING_DEFINITION,
    "",
    ...(rows.length === 0 ? ["(no measurable item)"] : table(["rank", "item", "kind", "shown", "problems measured", "mean Δ (points)", "taught"], rows))
  ].join("\n")
}

export const formatItem = (it: ItemLineage): string => {
  const out = [`item ${it.id} (${it.kind})`]
  if (it.created.length === 0) out.push("created: not in this lineage (imported, or made before the lineage's first step)")
  for (const c of it.created) {
    out.push(`created at step ${c.step} from ${c.sources.length} rollout${c.sources.length === 1 ? "" : "s"}:`)
    out.push(...table(["step", "policy", "reward", "rollout"], c.sources.map((s) => [s.step === null ? "?" : String(s.step), s.policyVersion === null ? "?" : String(s.policyVersion), num(s.reward), s.rolloutId])).map((l) => `  ${l}`))
  }
  out.push(`shown to ${it.timesShown} teacher context${it.timesShown === 1 ? "" : "s"}${it.timesShown === 0 ? "" : ":"}`)
  if (it.timesShown > 0) {
    out.push(...table(["step", "rollout", "problem", "reward", "memory version"], it.shown.map((s) => [String(s.step), s.rolloutId, s.problemId, num(s.reward), String(s.version)])).map((l) => `  ${l}`))
    out.push("the student's memory-free success per problem (solved / its own rollouts), up to the step first shown and after:")
    out.push(...table(["problem", "shown", "first shown", "before", "after", "Δ (points)"],
      it.problems.map((p) => [p.problemId, String(p.shown), String(p.firstShown), rateText(p.before), rateText(p.after), formatDelta(p.delta)])).map((l) => `  ${l}`))
    out.push(`taught ${num(it.taught)} (mean Δ ${formatDelta(it.meanDelta)} points)`)
  }
  return out.join("\n")
}

/** The ranking as JSON: the table's columns and the per-problem figures (--item has the rollouts). */
export const rankingJson = (dir: string, r: Ranking) => ({
  run: dir, file: LINEAGE_FILE, definition: RANKING_DEFINITION, steps: r.steps, shownItems: r.shownItems, unmeasurable: r.unmeasurable,
  ranked: r.ranked.map((it, i) => ({
    rank: i + 1, id: it.id, kind: it.kind, timesShown: it.timesShown, taught: it.taught, meanDelta: it.meanDelta,
    createdAt: it.created.map((c) => c.step), problems: it.problems
  }))
})

export const lineageCommand = Command.make("lineage", {
  dir: Argument.String("run"),
  item: Flag.String("item").pipe(Flag.optional, Flag.withDescription("one memory item: its provenance, the rollouts it was shown to, success before/after")),
  json: Flag.Boolean("json").pipe(Flag.withDefault(false), Flag.withDescription("print JSON instead of tables")),
  top: Flag.Int("top").pipe(Flag.filter((n) => n >= 1, (n) => `--top must be >= 1, got ${n}`), Flag.withDefault(DEFAULT_TOP),
    Flag.withDescription(`items in the ranking (default ${DEFAULT_TOP})`))
}, (f) =>
  Effect.sync(() => {
    if (!existsSync(f.dir)) throw new RunDirError({ dir: f.dir, problem: "no such run directory" })
    if (!statSync(f.dir).isDirectory()) throw new RunDirError({ dir: f.dir, problem: "exists and is a file, not a directory" })
    const file = join(f.dir, FILES.lineage)
    const records = readLineageFile(file)
    const item = Option.getOrUndefined(f.item)
    if (item === undefined) {
      const r = rankItems(records, f.top)
      console.log(f.json ? JSON.stringify(rankingJson(f.dir, r), null, 2) : formatRanking(f.dir, r))
      return
    }
    const it = indexLineage(records).item(item)
    if (it === undefined) throw new LineageItemError({ item, file })
    console.log(f.json ? JSON.stringify(it, null, 2) : formatItem(it))
  })).pipe(Command.withDescription("memory lineage: which memory items the teacher was shown, where they came from, and what they taught"))
