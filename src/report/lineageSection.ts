/**
 * The report's "What memory taught" section: per run with a lineage.jsonl, its top memory items ranked by
 * what they taught (lineageRank.ts, the ranking `pmdsim lineage` prints). Runs without the file (GRPO is
 * recorded too, so: runs from before lineage existed) are left out; no run has one, no section.
 */
import { existsSync } from "node:fs"
import { join } from "node:path"
import type { RunData } from "../protocol/metrics.ts"
import { CONFIG_FILE, METRICS_FILE } from "./load.ts"
import { LINEAGE_FILE, readLineageFile } from "./lineageFile.ts"
import { formatDelta, RANKING_DEFINITION, rankItems, type Ranking } from "./lineageRank.ts"
import { escapeHtml } from "./tables.ts"

export interface RunLineage {
  /** the run's name (RunData.name) */
  readonly run: string
  readonly ranking: Ranking
}

/** Items per run in the section: a run's ten best, five each in a sweep. */
const topFor = (runs: number): number => (runs === 1 ? 10 : 5)

/**
 * The ranking of every run loaded from `dir` that has a lineage.jsonl (the run directory itself, or the
 * sweep's run sub-folders), sorted by run name. A damaged file is a LineageFileError naming its line.
 */
export const loadLineage = (dir: string, runs: ReadonlyArray<RunData>): Array<RunLineage> => {
  const single = existsSync(join(dir, CONFIG_FILE)) || existsSync(join(dir, METRICS_FILE))
  const out: Array<RunLineage> = []
  for (const run of [...runs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const file = join(single ? dir : join(dir, run.name), LINEAGE_FILE)
    if (!existsSync(file)) continue
    out.push({ run: run.name, ranking: rankItems(readLineageFile(file), topFor(runs.length)) })
  }
  return out
}

/** A sweep's tables (five items per run) fold away behind one line. */
const wrap = (runs: number, table: string): string => (runs === 1 ? table : `<details><summary>top items of ${runs} runs</summary>\n${table}\n</details>`)

export const lineageSection = (lineage: ReadonlyArray<RunLineage>): string => {
  if (lineage.length === 0) return ""
  const rows = lineage.flatMap((l) => l.ranking.ranked.map((it, i) => [
    escapeHtml(l.run), String(i + 1), `<code>${escapeHtml(it.id)}</code>`, it.kind, String(it.timesShown),
    `${it.problems.filter((p) => p.delta !== null).length} / ${it.problems.length}`, formatDelta(it.meanDelta), (it.taught ?? 0).toFixed(2)
  ]))
  const unmeasured = lineage.filter((l) => l.ranking.unmeasurable > 0).map((l) => `${escapeHtml(l.run)}: ${l.ranking.unmeasurable} of ${l.ranking.shownItems}`)
  const head = ["run", "rank", "item", "kind", "times shown", "problems measured", "mean Δ success (points)", "taught"]
  return `<section id="lineage">
<h2>What memory taught</h2>
<p class="caption">The memory items the teacher was shown (${LINEAGE_FILE}), ranked by what they taught: ${escapeHtml(RANKING_DEFINITION)}.
<i>Mean Δ</i> is taught over the times shown on the measured problems. The student samples without memory, so its success is
memory-free. Attribution by co-occurrence, not a controlled experiment: everything else the policy learned moves the later success
too. <code>pmdsim lineage RUN --item ID</code> shows an item's provenance and the rollouts it was shown to.</p>
${rows.length === 0 ? "<p class=\"caption\">No item could be measured yet: none of the problems they were shown for was sampled again.</p>" : wrap(lineage.length, `<table class="results lineage"><thead><tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr></thead><tbody>
${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("\n")}
</tbody></table>`)}
${unmeasured.length === 0 ? "" : `<p class="caption">Shown but not measurable (their problems were not sampled again): ${unmeasured.join("; ")}.</p>\n`}</section>`
}
