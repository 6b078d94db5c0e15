/**
 * The report's HTML tables: the results table (final and best-so-far memory-free accuracy, mean ± 95%
 * interval over seeds), time per stage and throughput, and the list of runs. Rendered on the server side
 * so that they read without JavaScript and copy cleanly into a document.
 */
import type { RunData } from "../protocol/metrics.ts"
import { PROTOCOLS, trainRowsOf, evalRowsOf, type SettingResult } from "./results.ts"
import { compareStrings, knobsLabel, type Summary } from "./stats.ts"

/** Escape text for HTML element content and double-quoted attributes. */
export const escapeHtml = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;")

/** "35.2 ± 4.1" in percentage points; with one seed there is no interval to show. */
export const formatPercent = (s: Summary): string =>
  s.n > 1 ? `${(s.mean * 100).toFixed(1)} ± ${(s.half * 100).toFixed(1)}` : `${(s.mean * 100).toFixed(1)}`

const formatNumber = (x: number | null, digits: number): string => (x === null ? "–" : x.toFixed(digits))

const table = (head: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>, cls: string): string =>
  `<table class="${cls}"><thead><tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr></thead><tbody>\n` +
  rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("\n") +
  `\n</tbody></table>`

/** Results table: one row per setting; per protocol, final and best accuracy; the highest mean of a column in bold. */
export const resultsTable = (results: ReadonlyArray<SettingResult>): string => {
  const protocols = PROTOCOLS.filter((p) => results.some((r) => r.protocols[p] !== undefined))
  const cols = protocols.flatMap((p) => [
    { head: `${p}<br>final`, get: (r: SettingResult) => r.protocols[p]?.final ?? null },
    { head: `${p}<br>best so far`, get: (r: SettingResult) => r.protocols[p]?.best ?? null },
    { head: `${p}<br>memory-augmented final`, get: (r: SettingResult) => r.protocols[p]?.augmentedFinal ?? null }
  ]).filter((c) => results.some((r) => c.get(r) !== null))
  const best = cols.map((c) => Math.max(...results.map((r) => c.get(r)?.mean ?? -Infinity)))
  const rows = results.map((r) => [
    escapeHtml(r.label),
    `${r.runs.length} <span class="seeds">(${[...r.runs].map((x) => x.seed).sort((a, b) => a - b).join(", ")})</span>`,
    ...cols.map((c, i) => {
      const s = c.get(r)
      if (s === null) return "–"
      const text = formatPercent(s)
      return s.mean === best[i] && results.length > 1 ? `<b>${text}</b>` : text
    })
  ])
  return table(["setting", "seeds", ...cols.map((c) => c.head)], rows, "results")
}

/** Mean ms per step of each stage, their total, and throughput, per setting. */
export const timingTable = (results: ReadonlyArray<SettingResult>): string => {
  const stages = [...new Set(results.flatMap((r) => r.stageMs.map(([s]) => s)))].sort(compareStrings)
  const rows = results.map((r) => {
    const ms = stages.map((s) => r.stageMs.find(([x]) => x === s)?.[1] ?? null)
    const total = ms.reduce<number>((a, b) => a + (b ?? 0), 0)
    return [escapeHtml(r.label), ...ms.map((m) => formatNumber(m, 1)), formatNumber(total, 1),
      formatNumber(r.rolloutsPerSec, 1), formatNumber(r.tokensPerSec, 0)]
  })
  return table(["setting", ...stages.map((s) => `${escapeHtml(s)} ms`), "total ms / step", "rollouts / s", "tokens / s"], rows, "timing")
}

/** Every run with its method, seed, knobs and how far it got. */
export const runsTable = (runs: ReadonlyArray<RunData>): string =>
  table(["run", "method", "seed", "knobs", "train steps", "last step", "evaluations", "trace"], runs.map((r) => {
    const train = trainRowsOf(r)
    const evals = PROTOCOLS.reduce((n, p) => n + evalRowsOf(r, p).length, 0)
    // a run made with --trace: its trace.json opens in Perfetto (ui.perfetto.dev, "Open trace file")
    const trace = r.trace === undefined ? "–" : `<a href="${escapeHtml(encodeURI(r.trace))}">trace.json</a>`
    return [escapeHtml(r.name), escapeHtml(r.method), String(r.seed), escapeHtml(knobsLabel(r.knobs)) || "–",
      String(train.length), train.length > 0 ? String(train[train.length - 1]!.step) : "–", String(evals), trace]
  }), "runs")
