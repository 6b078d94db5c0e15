/**
 * The figures drawn against training step: learning curves, memory growth, and staleness as observed.
 * Each is one line per setting (method + the knob values that vary), the mean over seeds with a shaded
 * 95% interval. A figure with no data (no memory-augmented evaluation, no rollout lag) is left out, with
 * a note saying so.
 */
import type { RunData, TrainRow } from "../protocol/metrics.ts"
import { linePlot, type PlotSpec, type Section } from "./plots.ts"
import { evalRowsOf, PROTOCOLS, trainRowsOf, type Protocol } from "./results.ts"
import type { Group } from "./stats.ts"

export interface CurveContext {
  readonly groups: ReadonlyArray<Group<string, RunData>>
  readonly colorOf: (label: string) => string
}

const PROTOCOL_NAME: Readonly<Record<Protocol, string>> = {
  internalization: "internalization (training problems, all tests)",
  transfer: "transfer (held-out problems)"
}
export const protocolName = (p: Protocol): string => PROTOCOL_NAME[p]

const trainPoints = (f: (r: TrainRow) => number) => (run: RunData): Array<readonly [number, number]> =>
  trainRowsOf(run).map((r) => [r.step, f(r)] as const)

const collect = (plots: ReadonlyArray<PlotSpec | null>): Array<PlotSpec> => plots.filter((p): p is PlotSpec => p !== null)

export const learningCurves = (ctx: CurveContext): Section => {
  const { groups, colorOf } = ctx
  const notes: Array<string> = []
  const accuracy = PROTOCOLS.flatMap((p) => {
    const free = linePlot(
      { id: `curve-free-${p}`, title: `Memory-free accuracy, ${protocolName(p)}`, xLabel: "step", yLabel: "avg@k", percent: true },
      groups, colorOf,
      (run) => evalRowsOf(run, p).map((r) => [r.step, r.memoryFree.avgAtK] as const)
    )
    const aug = linePlot(
      { id: `curve-aug-${p}`, title: `Memory-augmented accuracy, ${protocolName(p)}`, xLabel: "step", yLabel: "avg@k", percent: true },
      groups, colorOf,
      (run) => evalRowsOf(run, p).flatMap((r) => (r.memoryAugmented ? [[r.step, r.memoryAugmented.avgAtK] as const] : []))
    )
    // issue #13's "reading skill": what memory in context adds to the same student at the same evaluation
    const reading = linePlot(
      { id: `curve-reading-${p}`, title: `Reading skill (memory-augmented − memory-free), ${protocolName(p)}`, xLabel: "step", yLabel: "avg@k points", percent: true },
      groups, colorOf,
      (run) => evalRowsOf(run, p).flatMap((r) => (r.memoryAugmented ? [[r.step, r.memoryAugmented.avgAtK - r.memoryFree.avgAtK] as const] : []))
    )
    if (free === null) notes.push(`No ${p} evaluations: no memory-free ${p} curve.`)
    if (free !== null && aug === null) notes.push(`No memory-augmented ${p} evaluations: no memory-augmented ${p} or reading-skill curve.`)
    return [free, aug, reading]
  })
  const train = [
    linePlot({ id: "curve-reward", title: "Train reward (mean over rollouts)", xLabel: "step", yLabel: "reward", percent: false },
      groups, colorOf, trainPoints((r) => r.rewardMean)),
    linePlot({ id: "curve-entropy", title: "Student entropy on its rollouts", xLabel: "step", yLabel: "nats / token", percent: false },
      groups, colorOf, trainPoints((r) => r.entropy)),
    linePlot({ id: "curve-teacher", title: "Rollouts with a teacher context", xLabel: "step", yLabel: "fraction", percent: true },
      groups, colorOf, trainPoints((r) => r.teacherFraction)),
    linePlot({ id: "curve-ever-solved", title: "Training problems ever solved", xLabel: "step", yLabel: "fraction", percent: true },
      groups, colorOf, trainPoints((r) => r.everSolved))
  ]
  if (train.every((p) => p === null)) notes.push("No train rows: no reward, entropy, teacher or ever-solved curves.")
  return {
    id: "learning-curves",
    title: "Learning curves",
    caption:
      "Mean over seeds per setting, shaded: 95% t-interval (zero-width with one seed). Memory-free accuracy is the " +
      "student's avg@k with no memory blocks in context, the number PMD is about (paper Table 2 and its training-dynamics " +
      "figure); memory-augmented accuracy shows what memory adds in context, and the reading skill is their difference per evaluation (a teacher that " +
      "stops reading its memory shows here first). Entropy and ever-solved show exploration: a " +
      "copy-ready teacher can collapse it (entropy falls, ever-solved stalls). Teacher fraction is the share of rollouts " +
      "the self-teacher distilled (SDPO mask = 1).",
    plots: collect([...accuracy, ...train]),
    notes
  }
}

export const memoryGrowth = (ctx: CurveContext): Section => {
  const { groups, colorOf } = ctx
  const level = (id: string, title: string, f: (r: TrainRow) => number) =>
    linePlot({ id, title, xLabel: "step", yLabel: "items", percent: false }, groups, colorOf, trainPoints(f))
  const plots = collect([
    level("memory-experience", "Experience items (all problems)", (r) => r.memorySizes.experience),
    level("memory-insights", "Insights (all problems)", (r) => r.memorySizes.insights),
    level("memory-behaviors", "Behaviors (global bank)", (r) => r.memorySizes.behaviors)
  ])
  return {
    id: "memory-growth",
    title: "Memory growth",
    caption:
      "Size of each memory level after every step (paper Fig. 6): experience and insights should grow fast, then plateau " +
      "near their per-problem caps; the behavior bank is edited on a slower clock and may shrink as well as grow. Methods " +
      "without memory stay at zero.",
    plots,
    notes: plots.length === 0 ? ["No train rows: no memory sizes."] : []
  }
}

export const observedStaleness = (ctx: CurveContext): Array<PlotSpec> => {
  const { groups, colorOf } = ctx
  const memory = linePlot(
    { id: "lag-memory", title: "Memory lag the teacher read at (versions behind newest)", xLabel: "step", yLabel: "versions", percent: false },
    groups, colorOf, trainPoints((r) => r.memoryLag)
  )
  const anyRolloutLag = groups.some((g) => g.items.some((run) => trainRowsOf(run).some((r) => r.rolloutLag !== 0)))
  const rollout = anyRolloutLag
    ? linePlot(
        { id: "lag-rollout", title: "Rollout lag (policy versions behind the update)", xLabel: "step", yLabel: "versions", percent: false },
        groups, colorOf, trainPoints((r) => r.rolloutLag)
      )
    : null
  return collect([memory, rollout])
}
