/**
 * The report's entry point: `writeReport(dir)` loads the run (or sweep) directory, renders report.html and
 * the CSV exports, and writes them into `dir`, each atomically (a temp file in the same directory, then
 * a rename), so that a reader never sees half a report and a failed render leaves the old one in place.
 */
import { writeFileDurable } from "../core/durableFile.ts"
import { basename, join, resolve } from "node:path"
import { evalCsv, trainCsv } from "./csv.ts"
import { renderReport } from "./html.ts"
import { loadEvalNoise, loadRuns, readStudySummary, readSweepBaseline } from "./load.ts"
import { loadLineage } from "./lineageSection.ts"
import type { BootstrapOptions } from "./paired.ts"

export { evalCsv, trainCsv, csvField, toCsv } from "./csv.ts"
export { EvalNoiseFileError, MetricsLineError, RunConfigError, RunDirError, EmptySampleError, type ReportError } from "./errors.ts"
export { claimsSection, renderReport, type RenderOptions } from "./html.ts"
export { bootstrapInterval, pairAgainstBaseline, pairedDifference, type PairedSummary, type PairedTable, seedsToResolve } from "./paired.ts"
export { loadRun, loadRuns, readSweepBaseline, parseConfig, parseMetrics, parseMetricsFile, type ParseMetricsOptions, CONFIG_FILE, METRICS_FILE } from "./load.ts"
export {
  EVAL_NOISE_FILE, EVAL_NOISE_FORMAT, type EvalNoise, type EvalNoiseEntry, loadEvalNoise, NOISE_METRICS, type NoiseMetric,
  noiseSummary, type NoiseStat, parseEvalNoise, readEvalNoise, type RunEvalNoise
} from "./load.ts"
export {
  parseStudySummary, readStudySummary, type StudyClaimResult, type StudySummary, STUDY_SUMMARY_FILE, STUDY_SUMMARY_FORMAT,
  StudySummaryFileError, type Verdict
} from "./load.ts"
export { meanCI, tCritical95, groupBy, groupByMethod, groupBySetting, curveOverSeeds, type Summary } from "./stats.ts"

export const REPORT_FILE = "report.html"
export const TRAIN_CSV_FILE = "metrics-train.csv"
export const EVAL_CSV_FILE = "metrics-eval.csv"

export interface WriteReportOptions {
  /** page title; default "pmdsim report: <directory name>" */
  readonly title?: string
  /** the paired table's baseline setting; default the one sweep-summary.json names, else the first setting */
  readonly baseline?: string
  /** add a percentile bootstrap interval to the paired table */
  readonly bootstrap?: BootstrapOptions
}

/**
 * Load `dir` (a run or a sweep directory), write report.html, metrics-train.csv and metrics-eval.csv into
 * it, and return their absolute paths. Fails with a RunDirError / RunConfigError / MetricsLineError /
 * EvalNoiseFileError / StudySummaryFileError / LineageFileError naming the bad file (and line or field) before writing anything.
 */
export const writeReport = async (dir: string, options: WriteReportOptions = {}): Promise<{ html: string; csv: string[] }> => {
  const root = resolve(dir)
  const runs = await loadRuns(root)
  const baseline = options.baseline ?? readSweepBaseline(root)
  const evalNoise = await loadEvalNoise(root, runs)
  const study = readStudySummary(root)
  const lineage = loadLineage(root, runs)
  const html = renderReport(runs, { title: options.title ?? `pmdsim report: ${basename(root)}`, baseline, bootstrap: options.bootstrap, evalNoise, study, lineage })
  const outputs: ReadonlyArray<readonly [string, string]> = [
    [join(root, REPORT_FILE), html],
    [join(root, TRAIN_CSV_FILE), trainCsv(runs)],
    [join(root, EVAL_CSV_FILE), evalCsv(runs)]
  ]
  for (const [file, text] of outputs) writeFileDurable(file, text)
  return { html: outputs[0]![0], csv: outputs.slice(1).map(([f]) => f) }
}
