/**
 * renderReport: one self-contained HTML page (chart.js and the data inlined, no network: a
 * Content-Security-Policy forbids every fetch) from the runs. A pure function of its input: the same runs,
 * in any order, give the same string, byte for byte; nothing in it depends on the clock or the machine.
 *
 * Layout: a study's claims and their verdicts (when the directory holds study-summary.json), a results
 * table (the headline numbers), the paired differences, the evaluation noise, what memory taught
 * (lineageSection.ts) and the reflector / consolidator quality (qualitySection.ts) (when there are any),
 * then one section per figure family (figures.ts), each
 * with a caption saying how to read it and which paper figure to compare it with, then time per stage
 * and the list of runs. Every chart is a <canvas> with an id and a data-plot attribute (its section).
 */
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import type { RunData } from "../protocol/metrics.ts"
import { CLIENT_SCRIPT } from "./client.ts"
import { buildFigures } from "./figures.ts"
import { type BootstrapOptions, formatNeeded, formatPoints, PAIRED_METRICS, pairAgainstBaseline, seedMetricsOfRuns } from "./paired.ts"
import { type NoiseMetric, noiseMetricOf, type RunEvalNoise, type StudySummary } from "./load.ts"
import { lineageSection, type RunLineage } from "./lineageSection.ts"
import { paperReference } from "./paper.ts"
import { qualitySection } from "./qualitySection.ts"
import type { Section } from "./plots.ts"
import { evalRowsOf, PROTOCOLS, varyingKnobs } from "./results.ts"
import { compareStrings, groupBySetting, meanCI } from "./stats.ts"
import { escapeHtml, resultsTable, runsTable, timingTable } from "./tables.ts"
import { STYLE } from "./style.ts"

export interface RenderOptions {
  readonly title: string
  /** the setting the paired table is taken against ("grpo", "pmd memory.lag=0"); default the first setting */
  readonly baseline?: string | undefined
  /** add a percentile bootstrap interval column to the paired table */
  readonly bootstrap?: BootstrapOptions | undefined
  /** the runs' eval-noise.json files (load.ts loadEvalNoise): the "Evaluation noise" section; none, no section */
  readonly evalNoise?: ReadonlyArray<RunEvalNoise> | undefined
  /** the directory's study-summary.json (load.ts readStudySummary): the "Claims" section; none, no section */
  readonly study?: StudySummary | undefined
  /** the runs' lineage.jsonl rankings (lineageSection.ts loadLineage): the "What memory taught" section; none, no section */
  readonly lineage?: ReadonlyArray<RunLineage> | undefined
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

/**
 * "Paired differences against BASELINE": every other setting minus the baseline at the same seed
 * (paired.ts), per metric: mean ± 95% t-interval in points, resolved (the interval excludes 0), and the
 * seeds 80% power needs at the observed difference. Empty with fewer than two settings.
 */
export const pairedSection = (runs: ReadonlyArray<RunData>, options: Pick<RenderOptions, "baseline" | "bootstrap">): string => {
  const settings = seedMetricsOfRuns(groupBySetting(runs, varyingKnobs(runs)))
  if (settings.length < 2) return ""
  const table = pairAgainstBaseline(settings, options.baseline, { bootstrap: options.bootstrap, metrics: PAIRED_METRICS })!
  const boot = options.bootstrap !== undefined
  const rows = table.rows.flatMap((r) => PAIRED_METRICS.flatMap((metric) => {
    const p = r.cells[metric]
    if (p === undefined) return []
    const seeds = `${p.n} <span class="seeds">(${p.seeds.join(", ")})</span>`
    const bootCell = p.bootstrap === undefined ? "–" : `[${formatPoints(p.bootstrap.lo, 0, 1)}, ${formatPoints(p.bootstrap.hi, 0, 1)}]`
    return [[escapeHtml(r.setting), escapeHtml(metric), seeds, formatPoints(p.mean, p.half, p.n), ...(boot ? [bootCell] : []),
      p.n < 2 ? "–" : p.resolved ? "<b>yes</b>" : "no", formatNeeded(p)]]
  }))
  const head = ["setting", "metric", "common seeds", "difference (points)", ...(boot ? ["bootstrap 95%"] : []), "resolved", "seeds needed"]
  const note = table.requested === undefined ? "" : `<p class="caption">The baseline ${escapeHtml(JSON.stringify(table.requested))} names no setting here; the first setting is used instead.</p>\n`
  return `<section id="paired">
<h2>Paired differences against ${escapeHtml(table.baseline)}</h2>
<p class="caption">Each setting minus ${escapeHtml(table.baseline)} at the same seed (runs at one seed share their problem schedule, so
most seed-to-seed noise cancels), over the seeds both have: mean ± 95% t-interval in percentage points. <i>Resolved</i>: the
interval excludes 0. <i>Seeds needed</i>: seeds a paired two-sided t-test (α = 0.05) needs for 80% power at the observed mean
difference and SD of differences (∞ when the difference is 0 or fewer than two seeds pair).${boot ? ` Bootstrap: percentile interval over ${escapeHtml(String(options.bootstrap!.resamples ?? 2000))} seeded resamples of the seeds.` : ""}</p>
${note}<table class="results paired"><thead><tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr></thead><tbody>
${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("\n")}
</tbody></table>
</section>`
}

const VERDICT_CLASS: Readonly<Record<string, string>> = { holds: "holds", reversed: "reversed", unresolved: "unresolved", "unresolved (n < 2)": "unresolved" }

/**
 * "Claims": a study's question and, per claim, better − worse on its metric paired by seed (mean ± 95%
 * t-interval in points, the seeds that paired, the seeds 80% power needs) and the verdict.
 */
export const claimsSection = (study: StudySummary): string => {
  const rows = study.claims.map((c) => [
    escapeHtml(c.id), escapeHtml(c.statement), escapeHtml(c.metric), `${escapeHtml(c.better)} − ${escapeHtml(c.worse)}`,
    c.mean === null ? "–" : formatPoints(c.mean, c.half ?? 0, c.n), `${c.n}${c.seeds.length === 0 ? "" : ` <span class="seeds">(${c.seeds.join(", ")})</span>`}`,
    c.seedsNeeded === null ? "∞" : String(c.seedsNeeded), `<b class="verdict ${VERDICT_CLASS[c.verdict] ?? "unresolved"}">${escapeHtml(c.verdict)}</b>`
  ])
  const head = ["claim", "statement", "metric", "better − worse", "difference (points)", "seeds paired", "seeds needed", "verdict"]
  return `<section id="claims">
<h2>Claims</h2>
<p class="caption question">${escapeHtml(study.question)}</p>
<p class="caption">Each claim says <i>better</i> &gt; <i>worse</i> on its metric. The difference better − worse is taken seed by seed
over the seeds both settings finished: mean ± 95% t-interval in percentage points. <i>Holds</i>: the interval lies above 0;
<i>reversed</i>: below 0; <i>unresolved</i>: it contains 0, or fewer than two seeds pair (n &lt; 2). <i>Seeds needed</i>: seeds a
paired t-test needs for 80% power at the observed difference.</p>
<table class="results claims"><thead><tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr></thead><tbody>
${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("\n")}
</tbody></table>
</section>`
}

/** The figures the evaluation-noise table shows (eval-noise.json has them all; the CLI prints them all). */
const NOISE_TABLE_METRICS: ReadonlyArray<NoiseMetric> = ["memoryFree.avgAtK", "memoryFree.passAtK", "memoryFree.majAtK", "memoryFree.greedy", "memoryAugmented.avgAtK"]

const FIGURE_LABEL: Readonly<Record<string, string>> = { avgAtK: "avg@k", passAtK: "pass@k", majAtK: "maj@k", headroom: "headroom", greedy: "greedy" }

/** "memory-free avg@k", "memory-augmented pass@k" */
export const noiseMetricLabel = (metric: NoiseMetric): string => {
  const [variant, figure] = metric.split(".") as [string, string]
  return `${variant === "memoryFree" ? "memory-free" : "memory-augmented"} ${FIGURE_LABEL[figure] ?? figure}`
}

const points = (x: number): string => (x * 100).toFixed(1)

/**
 * "Evaluation noise": for each setting with runs that have eval-noise.json, per protocol and figure, the SD
 * across evaluation seeds (one checkpoint evaluated K times; over several measured runs, √ of their mean
 * variance) beside the seed-to-seed SD of the setting's final values (every run of the setting), and the
 * share of that seed-to-seed variance evaluation alone accounts for. Empty when no run has the file.
 */
export const evalNoiseSection = (runs: ReadonlyArray<RunData>, noise: ReadonlyArray<RunEvalNoise>): string => {
  if (noise.length === 0) return ""
  const byRun = [...noise].sort((a, b) => compareStrings(a.run, b.run))
  const fresh = new Map(byRun.filter((n) => !n.stale).map((n) => [n.run, n.noise]))
  const rows = groupBySetting(runs, varyingKnobs(runs)).flatMap((g) => {
    const measured = g.items.filter((r) => fresh.has(r.name)).sort((a, b) => compareStrings(a.name, b.name)).map((r) => fresh.get(r.name)!)
    if (measured.length === 0) return []
    const steps = [...new Set(measured.map((m) => m.step))].sort((a, b) => a - b)
    return PROTOCOLS.flatMap((protocol) => NOISE_TABLE_METRICS.flatMap((metric) => {
      const stats = measured.flatMap((m) => m.summary.filter((s) => s.protocol === protocol && s.metric === metric))
      if (stats.length === 0) return []
      const evalSd = Math.sqrt(stats.reduce((a, s) => a + s.sd * s.sd, 0) / stats.length)
      const ks = [...new Set(stats.map((s) => s.n))].sort((a, b) => a - b)
      const finals = g.items.flatMap((r) => {
        const last = evalRowsOf(r, protocol).at(-1)
        const v = last === undefined ? undefined : noiseMetricOf(last, metric)
        return v === undefined ? [] : [v]
      })
      const seedSd = finals.length >= 2 ? meanCI(finals, `${g.key} ${protocol} ${metric}`).sd : null
      return [[
        escapeHtml(g.key), protocol, noiseMetricLabel(metric), `${stats.length} <span class="seeds">(step ${steps.join(", ")})</span>`,
        ks.join(", "), points(evalSd), seedSd === null ? "–" : `${points(seedSd)} <span class="seeds">(${finals.length} seeds)</span>`,
        seedSd === null || seedSd === 0 ? "–" : `${Math.round((100 * evalSd * evalSd) / (seedSd * seedSd))}%`
      ]]
    }))
  })
  const stale = byRun.filter((n) => n.stale).map((n) => n.run)
  const notes = [...new Set(byRun.filter((n) => !n.stale).flatMap((n) => n.noise.notes))].sort(compareStrings)
  const head = ["setting", "protocol", "figure", "runs measured", "evaluation seeds", "SD across evaluation seeds (points)", "seed-to-seed SD of final (points)", "share of seed variance"]
  return `<section id="eval-noise">
<h2>Evaluation noise</h2>
<p class="caption">A checkpoint evaluated again under K evaluation seeds (<code>pmdsim eval-noise</code>: new samples, prompt
renderings, maj@k tie-breaks, retrieval, and the problem subset when evaluation uses one), the weights and memory fixed: the SD
of each figure across those seeds, in percentage points (over several measured runs of a setting, the square root of their mean
variance), beside the SD across seeds of the setting's final values, which holds training and evaluation noise together (– with
fewer than two seeds). <i>Share</i>: evaluation variance over seed-to-seed variance, the part of the seed-to-seed spread that
evaluating again alone would produce.</p>
${rows.length === 0 ? "" : `<table class="results eval-noise"><thead><tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr></thead><tbody>
${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("\n")}
</tbody></table>`}
${notes.length === 0 ? "" : `<ul class="notes">${notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul>\n`}${stale.length === 0 ? "" : `<p class="caption">Left out, measured under another config than the run now has (it was redone since; run <code>pmdsim eval-noise</code> again): ${stale.map(escapeHtml).join(", ")}.</p>\n`}</section>`
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
  const paired = pairedSection(runs, options)
  const noise = evalNoiseSection(runs, options.evalNoise ?? [])
  const claims = options.study === undefined ? "" : claimsSection(options.study)
  const taught = lineageSection(options.lineage ?? [])
  const quality = qualitySection(runs)
  const nav = [...(claims === "" ? [] : [["claims", "Claims"]]), ["results", "Results"], ...(paired === "" ? [] : [["paired", "Paired differences"]]),
    ...(noise === "" ? [] : [["eval-noise", "Evaluation noise"]]), ...(taught === "" ? [] : [["lineage", "What memory taught"]]), ...(quality === "" ? [] : [["quality", "Reflector quality"]]), ...fig.sections.map((s) => [s.id, s.title]), ["runs", "Runs"]]
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
${claims === "" ? "" : `${claims}\n`}<section id="results">
<h2>Results</h2>
<p class="caption">Memory-free avg@k in percent, mean ± 95% t-interval over seeds (no interval with one seed); the highest
mean of each column in bold. <i>Final</i> is each run's last evaluation, <i>best so far</i> its best one (the paper's tables
most likely report best checkpoints). Internalization: the training problems under all their tests; transfer: held-out
problems of the same clusters. Memory-augmented: the same student with memory blocks in context.</p>
${resultsTable(fig.results)}
${paperReference()}
</section>
${paired === "" ? "" : `${paired}\n`}${noise === "" ? "" : `${noise}\n`}${taught === "" ? "" : `${taught}\n`}${quality === "" ? "" : `${quality}\n`}${body}
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
