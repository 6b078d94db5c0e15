/**
 * Figures that compare settings at a point rather than over steps: ablation bars (final and best-so-far
 * memory-free accuracy), test-time scaling at the final evaluation, accuracy against each numeric knob a
 * sweep varies (staleness: memory lag, rollout lag, ...), and time per stage.
 */
import type { AccuracyAtK, RunData } from "../protocol/metrics.ts"
import { protocolName, type CurveContext } from "./curves.ts"
import { barSeries, colorAt, linePlot, summaryLinePlot, type BarPlot, type PlotSpec } from "./plots.ts"
import { evalRowsOf, PROTOCOLS, type Protocol, type SettingResult } from "./results.ts"
import { compareKnobValues, groupBy, groupBySetting, meanCI, type Summary } from "./stats.ts"

const BAR_FINAL = "#56B4E9"
const BAR_BEST = "#0072B2"

const bar = (
  id: string, title: string, yLabel: string, percent: boolean, categories: ReadonlyArray<string>, series: BarPlot["series"]
): BarPlot => ({ kind: "bar", id, title, xLabel: "setting", yLabel, percent, categories, series, stacked: false, horizontal: false })

const withProtocol = (results: ReadonlyArray<SettingResult>, p: Protocol) => results.filter((r) => r.protocols[p] !== undefined)

/** Final and best-so-far memory-free avg@k per setting, one chart per protocol. */
export const ablationBars = (results: ReadonlyArray<SettingResult>): Array<PlotSpec> =>
  PROTOCOLS.flatMap((p) => {
    const rs = withProtocol(results, p)
    if (rs.length === 0) return []
    return [bar(`ablation-${p}`, `Memory-free accuracy per setting, ${protocolName(p)}`, "avg@k", true, rs.map((r) => r.label), [
      barSeries("final", BAR_FINAL, rs.map((r) => r.protocols[p]!.final)),
      barSeries("best so far", BAR_BEST, rs.map((r) => r.protocols[p]!.best))
    ])]
  })

/** A label such as "pass@8" when every run used the same k, else "pass@k". */
const atK = (name: string, k: Summary | undefined): string => (k && k.sd === 0 ? `${name}@${k.mean}` : `${name}@k`)

const SCALING: ReadonlyArray<readonly [keyof AccuracyAtK, string, string]> = [
  ["avgAtK", "avg", "#56B4E9"], ["majAtK", "maj", "#E69F00"], ["passAtK", "pass", "#009E73"]
]

/** avg@k, maj@k and pass@k per setting at the final evaluation; headroom (pass@k − maj@k) beside them. */
export const scalingBars = (results: ReadonlyArray<SettingResult>): Array<PlotSpec> =>
  PROTOCOLS.flatMap((p) => {
    const rs = withProtocol(results, p)
    if (rs.length === 0) return []
    const ks = meanCI(rs.map((r) => r.protocols[p]!.finalAt.k.mean))
    const labels = rs.map((r) => r.label)
    return [
      bar(`scaling-${p}`, `Test-time scaling at the final evaluation, ${protocolName(p)}`, "accuracy", true, labels,
        SCALING.map(([f, name, color]) => barSeries(atK(name, ks), color, rs.map((r) => r.protocols[p]!.finalAt[f])))),
      bar(`headroom-${p}`, `Verifier headroom ${atK("pass", ks)} − ${atK("maj", ks)}, ${protocolName(p)}`, "headroom", true, labels,
        [barSeries("headroom", "#CC79A7", rs.map((r) => r.protocols[p]!.finalAt.headroom))])
    ]
  })

/** Headroom against step per setting (does a method keep its headroom or collapse to one answer?). */
export const headroomCurves = (ctx: CurveContext): Array<PlotSpec> =>
  PROTOCOLS.flatMap((p) => {
    const plot = linePlot(
      { id: `curve-headroom-${p}`, title: `Headroom over training, ${protocolName(p)}`, xLabel: "step", yLabel: "pass@k − maj@k", percent: true },
      ctx.groups, ctx.colorOf,
      (run) => evalRowsOf(run, p).map((r) => [r.step, r.memoryFree.headroom] as const)
    )
    return plot ? [plot] : []
  })

const bestOf = (run: RunData, p: Protocol): number | null => {
  const rows = evalRowsOf(run, p)
  return rows.length === 0 ? null : Math.max(...rows.map((r) => r.memoryFree.avgAtK))
}

/** Numeric knobs taking at least two values across the runs. */
export const numericSweepKnobs = (runs: ReadonlyArray<RunData>, varying: ReadonlyArray<string>): Array<string> =>
  varying.filter((k) => new Set(runs.flatMap((r) => (typeof r.knobs[k] === "number" ? [r.knobs[k]] : []))).size >= 2)

/**
 * Best-so-far memory-free accuracy against each numeric knob the sweep varies, one line per method and
 * setting of the other knobs, with its interval over seeds at every knob value.
 */
export const knobSweeps = (runs: ReadonlyArray<RunData>, varying: ReadonlyArray<string>): Array<PlotSpec> =>
  numericSweepKnobs(runs, varying).flatMap((knob) => {
    const withKnob = runs.filter((r) => typeof r.knobs[knob] === "number")
    const others = groupBySetting(withKnob, varying.filter((k) => k !== knob))
    return PROTOCOLS.flatMap((p) => {
      const plot = summaryLinePlot(
        { id: `sweep-${knob.replace(/[^A-Za-z0-9_-]/g, "_")}-${p}`, title: `Best memory-free accuracy vs ${knob}, ${protocolName(p)}`,
          xLabel: knob, yLabel: "best avg@k", percent: true },
        others.map((g, i) => ({
          label: g.key,
          color: colorAt(i),
          points: groupBy(g.items, (r) => r.knobs[knob] as number, compareKnobValues).flatMap((v) => {
            const xs = v.items.map((r) => bestOf(r, p)).filter((x): x is number => x !== null)
            return xs.length === 0 ? [] : [[v.key, meanCI(xs)] as const]
          })
        }))
      )
      return plot ? [plot] : []
    })
  })

/** A run's mean training throughput (rollouts per wall second over its train rows), null without train rows. */
const throughputOf = (run: RunData): number | null => {
  const xs = run.rows.flatMap((r) => (r.kind === "train" ? [r.rolloutsPerSec] : []))
  return xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length
}

/**
 * Training throughput against each numeric knob a sweep varies, one line per method and setting of the
 * other knobs (e.g. `async.execution` inline vs pipelined against `async.staleness`): the
 * throughput-versus-staleness trade-off beside the accuracy-versus-staleness curves. Wall time: it
 * varies from machine to machine and never changes a result.
 */
export const throughputSweeps = (runs: ReadonlyArray<RunData>, varying: ReadonlyArray<string>): Array<PlotSpec> =>
  numericSweepKnobs(runs, varying).flatMap((knob) => {
    const withKnob = runs.filter((r) => typeof r.knobs[knob] === "number")
    const others = groupBySetting(withKnob, varying.filter((k) => k !== knob))
    const plot = summaryLinePlot(
      { id: `throughput-${knob.replace(/[^A-Za-z0-9_-]/g, "_")}`, title: `Training throughput vs ${knob}`, xLabel: knob, yLabel: "rollouts / s", percent: false },
      others.map((g, i) => ({
        label: g.key,
        color: colorAt(i),
        points: groupBy(g.items, (r) => r.knobs[knob] as number, compareKnobValues).flatMap((v) => {
          const xs = v.items.map(throughputOf).filter((x): x is number => x !== null)
          return xs.length === 0 ? [] : [[v.key, meanCI(xs)] as const]
        })
      }))
    )
    return plot ? [plot] : []
  })

/** Mean wall ms per step of each stage per setting, stacked. Informational: wall time never changes results. */
export const stageBars = (results: ReadonlyArray<SettingResult>): Array<PlotSpec> => {
  const rs = results.filter((r) => r.stageMs.length > 0)
  const stages = [...new Set(rs.flatMap((r) => r.stageMs.map(([s]) => s)))].sort()
  if (stages.length === 0) return []
  const series = stages.map((s, i) => {
    const values = rs.map((r) => r.stageMs.find(([x]) => x === s)?.[1] ?? null)
    return { label: s, color: colorAt(i), values, lo: values.map(() => null), hi: values.map(() => null), n: rs.map((r) => r.runs.length) }
  })
  return [{ kind: "bar", id: "stage-ms", title: "Wall time per step by stage", xLabel: "ms / step", yLabel: "setting",
    percent: false, categories: rs.map((r) => r.label), series, stacked: true, horizontal: true }]
}
