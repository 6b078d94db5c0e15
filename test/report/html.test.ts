import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import type { RunData } from "../../src/protocol/metrics.ts"
import { buildFigures } from "../../src/report/figures.ts"
import { renderReport } from "../../src/report/html.ts"
import type { BarPlot, LinePlot, PlotSpec } from "../../src/report/plots.ts"
import { meanCI } from "../../src/report/stats.ts"
import { syntheticRun, syntheticRuns } from "./synthetic.ts"

const runs = syntheticRuns(["grpo", "sdpo", "pmd"], [1, 2], 9, 3)

/** The plot specs embedded in a rendered page. */
const embeddedPlots = (html: string): Array<PlotSpec> => {
  const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)
  if (!m) throw new Error("no report-data script")
  return (JSON.parse(m[1]!) as { plots: Array<PlotSpec> }).plots
}
const plotById = (html: string, id: string): PlotSpec => {
  const p = embeddedPlots(html).find((x) => x.id === id)
  if (!p) throw new Error(`no plot ${id}`)
  return p
}

describe("renderReport", () => {
  it("is deterministic: the same runs, in any order, give the same string", () => {
    const a = renderReport(runs, { title: "t" })
    const b = renderReport(runs.map((r) => structuredClone(r)), { title: "t" })
    const c = renderReport([...runs].reverse(), { title: "t" })
    expect(b).toBe(a)
    expect(c).toBe(a)
  })

  it("is the same bytes under plain Node (type stripping) as under vitest's transform", () => {
    const repo = fileURLToPath(new URL("../..", import.meta.url))
    const dir = mkdtempSync(join(tmpdir(), "pmdsim-render-"))
    try {
      const script = join(dir, "render.ts")
      writeFileSync(script, [
        `import { renderReport } from ${JSON.stringify(join(repo, "src/report/html.ts"))}`,
        `import { syntheticRuns } from ${JSON.stringify(join(repo, "test/report/synthetic.ts"))}`,
        `process.stdout.write(renderReport(syntheticRuns(["grpo", "sdpo", "pmd"], [1, 2], 9, 3), { title: "t" }))`
      ].join("\n"))
      const out = execFileSync(join(repo, "node_modules/.bin/node"), [script], { encoding: "utf8", maxBuffer: 64 << 20 })
      expect(out).toBe(renderReport(runs, { title: "t" }))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("gives every plot a canvas with a unique id and a data-plot attribute, and inlines chart.js", () => {
    const html = renderReport(runs, { title: "t" })
    const canvases = [...html.matchAll(/<canvas id="([^"]+)" data-plot="([^"]+)"/g)]
    const plots = embeddedPlots(html)
    expect(canvases.map((m) => m[1])).toEqual(plots.map((p) => p.id))
    expect(new Set(plots.map((p) => p.id)).size).toBe(plots.length)
    expect(html).toContain(`data-plots="${plots.length}"`)
    expect(html).toContain("Chart.js v4.6.1")
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|url\(/)
    expect(html).toContain("default-src 'none'")
    for (const id of ["curve-free-internalization", "curve-free-transfer", "curve-aug-transfer", "curve-reading-transfer", "curve-reward", "curve-entropy",
      "curve-teacher", "curve-ever-solved", "ablation-internalization", "ablation-transfer", "memory-experience",
      "memory-insights", "memory-behaviors", "lag-memory", "scaling-transfer", "headroom-transfer", "curve-headroom-transfer", "stage-ms"]) {
      expect(plots.map((p) => p.id)).toContain(id)
    }
  })

  it("plots the mean and 95% interval over seeds of what the runs wrote", () => {
    const html = renderReport(runs, { title: "t" })
    const curve = plotById(html, "curve-free-transfer") as LinePlot
    expect(curve.series.map((s) => s.label)).toEqual(["grpo", "sdpo", "pmd"])
    const pmd = runs.filter((r) => r.method === "pmd")
    const at = (r: RunData, step: number) => {
      const row = r.rows.find((x) => x.kind === "eval" && x.protocol === "transfer" && x.step === step)
      if (row?.kind !== "eval") throw new Error("missing row")
      return row.memoryFree
    }
    const expected = meanCI(pmd.map((r) => at(r, 6).avgAtK))
    expect(curve.series[2]!.points.find((p) => p.x === 6)).toEqual({ x: 6, y: expected.mean, lo: expected.lo, hi: expected.hi, n: 2 })

    const reading = plotById(html, "curve-reading-transfer") as LinePlot
    const gain = meanCI(pmd.map((r) => {
      const row = r.rows.find((x) => x.kind === "eval" && x.protocol === "transfer" && x.step === 6)
      if (row?.kind !== "eval" || !row.memoryAugmented) throw new Error("missing row")
      return row.memoryAugmented.avgAtK - row.memoryFree.avgAtK
    }))
    expect(reading.series.find((s) => s.label === "pmd")!.points.find((p) => p.x === 6)).toEqual({ x: 6, y: gain.mean, lo: gain.lo, hi: gain.hi, n: 2 })

    const bars = plotById(html, "ablation-transfer") as BarPlot
    expect(bars.categories).toEqual(["grpo", "sdpo", "pmd"])
    const final = meanCI(pmd.map((r) => at(r, 9).avgAtK))
    const best = meanCI(pmd.map((r) => Math.max(at(r, 3).avgAtK, at(r, 6).avgAtK, at(r, 9).avgAtK)))
    expect(bars.series.map((s) => s.label)).toEqual(["final", "best so far"])
    expect(bars.series[0]!.values[2]).toBe(final.mean)
    expect(bars.series[0]!.hi[2]).toBe(final.hi)
    expect(bars.series[1]!.values[2]).toBe(best.mean)

    const scaling = plotById(html, "scaling-internalization") as BarPlot
    expect(scaling.series.map((s) => s.label)).toEqual(["avg@8", "maj@8", "pass@8"])
  })

  it("leaves out figures without data and says why", () => {
    const noMemory = syntheticRuns(["grpo"], [1], 6, 3)
    const html = renderReport(noMemory, { title: "t" })
    const ids = embeddedPlots(html).map((p) => p.id)
    expect(ids).not.toContain("curve-aug-transfer")
    expect(ids).not.toContain("curve-reading-transfer")
    expect(ids).not.toContain("lag-rollout")
    expect(html).toContain("No memory-augmented transfer evaluations")
    expect(html).toContain("No numeric knob varies across these runs")
  })

  it("draws accuracy against each numeric knob a sweep varies, one line per method", () => {
    const sweep = [0, 2, 4].flatMap((lag) => [1, 2].map((seed) => syntheticRun({ method: "pmd", seed, steps: 6, evalEvery: 3, knobs: { "memory.lag": lag, teacher: "live" } })))
    const fig = buildFigures([...sweep, ...syntheticRuns(["sdpo"], [1, 2], 6, 3)])
    expect(fig.varyingKnobs).toEqual(["memory.lag", "teacher"])
    expect(fig.results.map((r) => r.label)).toEqual(["sdpo", "pmd · memory.lag=0, teacher=live", "pmd · memory.lag=2, teacher=live", "pmd · memory.lag=4, teacher=live"])
    const plot = fig.sections.flatMap((s) => s.plots).find((p) => p.id === "sweep-memory_lag-transfer") as LinePlot
    expect(plot.series.map((s) => s.label)).toEqual(["pmd · teacher=live"])
    expect(plot.series[0]!.points.map((p) => [p.x, p.n])).toEqual([[0, 2], [2, 2], [4, 2]])
  })

  it("draws training throughput against async.staleness, one line per execution: the throughput-vs-staleness trade-off", () => {
    // synthetic throughput: pipelined runs at 1.5x inline, falling slightly with the lag
    const sweep = [0, 1, 2, 4].flatMap((eta) => (["inline", "pipelined"] as const).flatMap((execution) => [1, 2].map((seed) => {
      const run = syntheticRun({ method: "pmd", seed, steps: 4, evalEvery: 2, knobs: { "async.staleness": eta, "async.execution": execution } })
      const speed = (execution === "pipelined" ? 150 : 100) - eta
      return { ...run, rows: run.rows.map((r) => (r.kind === "train" ? { ...r, rolloutsPerSec: speed + seed } : r)) }
    })))
    const plot = buildFigures(sweep).sections.find((s) => s.id === "staleness")!.plots.find((p) => p.id === "throughput-async_staleness") as LinePlot
    expect(plot.series.map((s) => s.label)).toEqual(["pmd · async.execution=inline", "pmd · async.execution=pipelined"])
    expect(plot.series[1]!.points.map((p) => [p.x, p.y])).toEqual([[0, 151.5], [1, 150.5], [2, 149.5], [4, 147.5]])
  })

  it("escapes the title and run names", () => {
    const odd = [{ ...syntheticRun({ method: "pmd", seed: 1, steps: 3, evalEvery: 3 }), name: "<b>&run</b>" }]
    const html = renderReport(odd, { title: "A <script>alert(1)</script> & co" })
    expect(html).toContain("<title>A &lt;script&gt;alert(1)&lt;/script&gt; &amp; co</title>")
    expect(html).toContain("&lt;b&gt;&amp;run&lt;/b&gt;")
    expect(html).not.toContain("<b>&run</b>")
  })
})
