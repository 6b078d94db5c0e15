/**
 * Plot specifications: plain data describing each chart (series, points, intervals), which html.ts embeds
 * as JSON and the page's script (client.ts) hands to chart.js. Keeping the specs as data means the numbers
 * behind every picture can be tested without a browser, and the page is a pure function of them.
 *
 * Accuracy-like values stay fractions in [0, 1]; `percent` tells the page to label the axis in percent.
 */
import type { RunData } from "../protocol/metrics.ts"
import { curveOverSeeds, type Group, type Summary } from "./stats.ts"

export interface LinePoint {
  readonly x: number
  readonly y: number
  readonly lo: number
  readonly hi: number
  readonly n: number
}

export interface LineSeries {
  readonly label: string
  readonly color: string
  readonly points: ReadonlyArray<LinePoint>
}

export interface BarSeries {
  readonly label: string
  readonly color: string
  /** one entry per category; null where the category has no value */
  readonly values: ReadonlyArray<number | null>
  /** interval bounds per category; null draws no error bar */
  readonly lo: ReadonlyArray<number | null>
  readonly hi: ReadonlyArray<number | null>
  readonly n: ReadonlyArray<number>
}

interface PlotBase {
  /** the canvas id, unique in the page */
  readonly id: string
  readonly title: string
  readonly xLabel: string
  readonly yLabel: string
  readonly percent: boolean
}

export interface LinePlot extends PlotBase {
  readonly kind: "line"
  readonly series: ReadonlyArray<LineSeries>
}

export interface BarPlot extends PlotBase {
  readonly kind: "bar"
  readonly categories: ReadonlyArray<string>
  readonly series: ReadonlyArray<BarSeries>
  readonly stacked: boolean
  readonly horizontal: boolean
}

export type PlotSpec = LinePlot | BarPlot

export interface Section {
  readonly id: string
  readonly title: string
  /** what the figures show and which paper figure or table to hold them against (plain text) */
  readonly caption: string
  readonly plots: ReadonlyArray<PlotSpec>
  /** figures left out and why (e.g. "no run varies a numeric knob") */
  readonly notes: ReadonlyArray<string>
}

/** Colour-blind-safe palette (Okabe-Ito, then Tol's muted); settings take colours in their order. */
export const PALETTE: ReadonlyArray<string> = [
  "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#332288", "#882255", "#117733", "#999933", "#AA4499", "#44AA99"
]
export const colorAt = (i: number): string => PALETTE[i % PALETTE.length]!

const point = (x: number, s: Summary): LinePoint => ({ x, y: s.mean, lo: s.lo, hi: s.hi, n: s.n })

/**
 * One line per group (setting): at each step, the mean and 95% interval over the group's runs of the
 * values `extract` gives. Groups with no points are left out; null when no group has any.
 */
export const linePlot = (
  base: PlotBase,
  groups: ReadonlyArray<Group<string, RunData>>,
  colorOf: (label: string) => string,
  extract: (run: RunData) => ReadonlyArray<readonly [number, number]>
): LinePlot | null => {
  const series = groups.flatMap((g): Array<LineSeries> => {
    const points = curveOverSeeds(g.items, extract).map((s) => point(s.step, s))
    return points.length === 0 ? [] : [{ label: g.key, color: colorOf(g.key), points }]
  })
  return series.length === 0 ? null : { kind: "line", ...base, series }
}

/** A line plot from ready-made (x, summary) points per series. */
export const summaryLinePlot = (
  base: PlotBase,
  series: ReadonlyArray<{ readonly label: string; readonly color: string; readonly points: ReadonlyArray<readonly [number, Summary]> }>
): LinePlot | null => {
  const kept = series.filter((s) => s.points.length > 0)
  return kept.length === 0
    ? null
    : { kind: "line", ...base, series: kept.map((s) => ({ label: s.label, color: s.color, points: s.points.map(([x, v]) => point(x, v)) })) }
}

/** A bar series from one summary (or none) per category, with its interval as the error bar. */
export const barSeries = (label: string, color: string, values: ReadonlyArray<Summary | null>): BarSeries => ({
  label,
  color,
  values: values.map((v) => (v ? v.mean : null)),
  lo: values.map((v) => (v ? v.lo : null)),
  hi: values.map((v) => (v ? v.hi : null)),
  n: values.map((v) => (v ? v.n : 0))
})
