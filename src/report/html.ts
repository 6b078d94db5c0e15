/**
 * renderReport: one self-contained HTML page (chart.js and the data inlined, no network: a
 * Content-Security-Policy forbids every fetch) from the runs. A pure function of its input: the same runs,
 * in any order, give the same string, byte for byte; nothing in it depends on the clock or the machine.
 *
 * Layout: a results table (the headline numbers), then one section per figure family (figures.ts), each
 * with a caption saying how to read it and which paper figure to compare it with, then time per stage
 * and the list of runs. Every chart is a <canvas> with an id and a data-plot attribute (its section).
 */
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import type { RunData } from "../experiments/metrics.ts"
import { CLIENT_SCRIPT } from "./client.ts"
import { buildFigures } from "./figures.ts"
import { paperReference } from "./paper.ts"
import type { Section } from "./plots.ts"
import { escapeHtml, resultsTable, runsTable, timingTable } from "./tables.ts"
import { STYLE } from "./style.ts"

export interface RenderOptions {
  readonly title: string
}

let chartJs: string | undefined
/** chart.js's UMD build, read once from the installed package (its exports do not name dist/ files). */
const chartJsSource = (): string => {
  if (chartJs === undefined) {
    const main = createRequire(import.meta.url).resolve("chart.js")
    chartJs = readFileSync(join(dirname(main), "chart.umd.min.js"), "utf8").replace(/<\/script/gi, "<\\/script")
  }
  return chartJs
}

/** JSON safe inside a <script> element: no "<" can close it. */
const scriptJson = (value: unknown): string => JSON.stringify(value).replace(/</g, "\\u003c")

const section = (s: Section, extra = ""): string => {
  const plots = s.plots
    .map((p) => `<figure class="plot"><canvas id="${escapeHtml(p.id)}" data-plot="${escapeHtml(s.id)}" role="img" aria-label="${escapeHtml(p.title)}"></canvas></figure>`)
    .join("\n")
  const notes = s.notes.length === 0 ? "" : `<ul class="notes">${s.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul>`
  return `<section id="${escapeHtml(s.id)}">
<h2>${escapeHtml(s.title)}</h2>
<p class="caption">${escapeHtml(s.caption)}</p>
${plots === "" ? "" : `<div class="grid">\n${plots}\n</div>`}
${notes}${extra}
</section>`
}

export const renderReport = (runs: ReadonlyArray<RunData>, options: RenderOptions): string => {
  const fig = buildFigures(runs)
  const methods = [...new Set(fig.results.map((r) => r.method))]
  const seeds = fig.results.map((r) => r.runs.length)
  const seedText = seeds.length === 0 ? "" : Math.min(...seeds) === Math.max(...seeds) ? `${seeds[0]}` : `${Math.min(...seeds)}-${Math.max(...seeds)}`
  const summary = `${fig.runs.length} run${fig.runs.length === 1 ? "" : "s"} · ${fig.results.length} setting${fig.results.length === 1 ? "" : "s"} ` +
    `(${methods.map(escapeHtml).join(", ")}) · ${seedText} seed${seedText === "1" ? "" : "s"} per setting` +
    (fig.varyingKnobs.length > 0 ? ` · knobs varied: ${fig.varyingKnobs.map(escapeHtml).join(", ")}` : "")
  const plots = fig.sections.flatMap((s) => s.plots)
  const nav = [["results", "Results"], ...fig.sections.map((s) => [s.id, s.title]), ["runs", "Runs"]]
    .map(([id, t]) => `<a href="#${escapeHtml(id!)}">${escapeHtml(t!)}</a>`).join(" ")
  const body = fig.sections
    .map((s) => section(s, s.id === "timing" && fig.results.some((r) => r.stageMs.length > 0) ? `\n${timingTable(fig.results)}` : ""))
    .join("\n")
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(options.title)}</title>
<style>${STYLE}</style>
</head>
<body data-plots="${plots.length}">
<header>
<h1>${escapeHtml(options.title)}</h1>
<p class="summary">${summary}</p>
<nav>${nav}</nav>
</header>
<main>
<section id="results">
<h2>Results</h2>
<p class="caption">Memory-free avg@k in percent, mean ± 95% t-interval over seeds (no interval with one seed); the highest
mean of each column in bold. <i>Final</i> is each run's last evaluation, <i>best so far</i> its best one (the paper's tables
most likely report best checkpoints). Internalization: the training problems under all their tests; transfer: held-out
problems of the same clusters. Memory-augmented: the same student with memory blocks in context.</p>
${resultsTable(fig.results)}
${paperReference()}
</section>
${body}
<section id="runs">
<h2>Runs</h2>
<details><summary>${fig.runs.length} run directories</summary>
${runsTable(fig.runs)}
</details>
</section>
</main>
<script type="application/json" id="report-data">${scriptJson({ plots })}</script>
<script>${chartJsSource()}</script>
<script>${CLIENT_SCRIPT}</script>
</body>
</html>
`
}
