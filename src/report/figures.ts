/**
 * All the report's figures, as sections of plot specs, from the runs (sorted by name first, so that the
 * order runs were given in never changes a number or a byte).
 */
import type { RunData } from "../protocol/metrics.ts"
import { ablationBars, headroomCurves, knobSweeps, numericSweepKnobs, scalingBars, stageBars, throughputSweeps } from "./bars.ts"
import { learningCurves, memoryGrowth, observedStaleness, type CurveContext } from "./curves.ts"
import { colorAt, type Section } from "./plots.ts"
import { settingResults, varyingKnobs, type SettingResult } from "./results.ts"
import { compareStrings, groupBySetting } from "./stats.ts"

export interface Figures {
  readonly runs: ReadonlyArray<RunData>
  readonly varyingKnobs: ReadonlyArray<string>
  readonly results: ReadonlyArray<SettingResult>
  readonly sections: ReadonlyArray<Section>
}

export const buildFigures = (input: ReadonlyArray<RunData>): Figures => {
  const runs = [...input].sort((a, b) => compareStrings(a.name, b.name))
  const varying = varyingKnobs(runs)
  const groups = groupBySetting(runs, varying)
  const colors = new Map(groups.map((g, i) => [g.key, colorAt(i)] as const))
  const ctx: CurveContext = { groups, colorOf: (label) => colors.get(label) ?? colorAt(0) }
  const results = settingResults(runs)

  const ablation = ablationBars(results)
  const scaling = [...scalingBars(results), ...headroomCurves(ctx)]
  const sweeps = [...knobSweeps(runs, varying), ...throughputSweeps(runs, varying)]
  const stale = [...observedStaleness(ctx), ...sweeps]
  const stages = stageBars(results)

  const sections: Array<Section> = [
    learningCurves(ctx),
    {
      id: "ablation",
      title: "Ablation: accuracy per setting",
      caption:
        "Memory-free avg@k per method / knob setting with 95% error bars over seeds: at the last evaluation (final) and at " +
        "each run's best evaluation (best so far). The paper's tables (Tables 2-4) most likely report best checkpoints, so " +
        "compare orderings on both: PMD > PMD-Transient > SDPO > GRPO in the paper.",
      plots: ablation,
      notes: ablation.length === 0 ? ["No evaluations: no ablation bars."] : []
    },
    {
      id: "scaling",
      title: "Test-time scaling and verifier headroom",
      caption:
        "At the final evaluation, k samples per problem: avg@k (mean reward, the pass@1 estimate), maj@k (majority answer " +
        "correct) and pass@k (any sample correct, best@k). Headroom = pass@k − maj@k is what a verifier could still recover; " +
        "in the paper (Fig. 3) PMD keeps 2-4x SDPO's headroom, and a headroom near zero signals mode collapse.",
      plots: scaling,
      notes: scaling.length === 0 ? ["No evaluations: no test-time scaling figures."] : []
    },
    memoryGrowth(ctx),
    {
      id: "staleness",
      title: "Staleness",
      caption:
        "Observed lags per step (how many memory versions behind the newest the teacher read; how many policy versions old " +
        "the rollouts of an update were), and, for every numeric knob a sweep varies (memory lag, rollout lag, ...), the " +
        "best memory-free accuracy against the knob's value, one line per method and setting of the other knobs, and the " +
        "training throughput (rollouts per wall second) against it: against `async.staleness`, with `async.execution` inline " +
        "and pipelined, the throughput-versus-staleness trade-off, measured (wall time varies by machine; it never changes a result).",
      plots: stale,
      notes: numericSweepKnobs(runs, varying).length === 0
        ? ["No numeric knob varies across these runs: no accuracy-vs-knob curves (run a sweep over memory lag or rollout lag to get them)."]
        : []
    },
    {
      id: "timing",
      title: "Time per stage",
      caption:
        "Mean wall milliseconds per training step in each stage, averaged over steps and then over seeds, with throughput " +
        "in the table below. Wall time is informational: it never changes a result, and it varies from machine to machine.",
      plots: stages,
      notes: stages.length === 0 ? ["No stage timings recorded."] : []
    }
  ]
  return { runs, varyingKnobs: varying, results, sections }
}
