/**
 * Synthetic runs for the report tests: plausible, deterministic metrics (a small integer hash, no
 * Math.random) for any methods x seeds x knobs, and a helper that writes them as run directories.
 */
import { mkdir, writeFile } from "node:fs/promises"
import { join } from "node:path"
import type { EvalRow, MetricsRow, RunData, TrainRow } from "../../src/protocol/metrics.ts"

/** A deterministic uniform in [0, 1) from integers (a 32-bit mix; stable across runtimes). */
export const noise = (...xs: ReadonlyArray<number>): number => {
  let h = 0x9e3779b9
  for (const x of xs) {
    h = Math.imul(h ^ (x | 0), 0x85ebca6b)
    h ^= h >>> 13
    h = Math.imul(h, 0xc2b2ae35)
    h ^= h >>> 16
  }
  return (h >>> 0) / 2 ** 32
}

const METHOD_GAIN: Readonly<Record<string, number>> = { grpo: 0.22, sdpo: 0.27, pmd: 0.34 }
const round = (x: number): number => Math.round(x * 1e4) / 1e4

export interface SyntheticOptions {
  readonly method: string
  readonly seed: number
  readonly steps: number
  readonly evalEvery: number
  readonly knobs?: RunData["knobs"]
  readonly k?: number
}

export const syntheticRun = (o: SyntheticOptions): RunData => {
  const m = o.method.length * 7 + o.method.charCodeAt(0)
  const gain = (METHOD_GAIN[o.method] ?? 0.2) - 0.02 * Number(o.knobs?.["memory.lag"] ?? 0)
  const hasMemory = o.method.startsWith("pmd")
  const k = o.k ?? 8
  const rows: Array<MetricsRow> = []
  const acc = (step: number, salt: number): number =>
    Math.min(0.98, Math.max(0, 0.13 + gain * (1 - Math.exp(-step / (o.steps / 3))) + 0.06 * (noise(m, o.seed, step, salt) - 0.5)))
  for (let step = 1; step <= o.steps; step++) {
    const t = step / o.steps
    const lag = hasMemory ? Number(o.knobs?.["memory.lag"] ?? 0) : 0
    const train: TrainRow = {
      kind: "train", step,
      rewardMean: round(acc(step, 1) + 0.05),
      loss: round(1.5 * Math.exp(-2 * t) + 0.1 * noise(m, o.seed, step, 2)),
      gradNorm: round(0.5 + noise(m, o.seed, step, 3)),
      entropy: round((hasMemory ? 0.9 : 1.2) * (1 - 0.5 * t) + 0.05 * noise(m, o.seed, step, 4)),
      teacherFraction: round(o.method === "grpo" ? 0 : o.method === "sdpo" ? 0.13 + 0.05 * t : 0.3 + 0.5 * t),
      everSolved: round(Math.min(1, 0.15 + 0.5 * t * (1 + gain))),
      memoryVersionRead: hasMemory ? Math.max(0, step - 1 - lag) : 0,
      memoryVersionNewest: hasMemory ? step - 1 : 0,
      memoryLag: hasMemory ? Math.min(lag, step - 1) : 0,
      memoryLagClamped: hasMemory && step - 1 < lag,
      rolloutPolicyVersion: step - 1,
      rolloutLag: 0,
      memorySizes: hasMemory
        ? { experience: Math.round(400 * (1 - Math.exp(-3 * t))), insights: Math.round(250 * (1 - Math.exp(-2 * t))), behaviors: Math.round(30 + 20 * Math.sin(3 * t)) }
        : { experience: 0, insights: 0, behaviors: 0 },
      rolloutsPerSec: round(120 + 10 * noise(m, o.seed, step, 5)),
      tokensPerSec: round(4000 + 300 * noise(m, o.seed, step, 6)),
      stageMs: { sample: round(80 + 10 * noise(m, o.seed, step, 7)), verify: round(15 + 3 * noise(m, step)), teacher: hasMemory ? 40 : 0, update: 60 }
    }
    rows.push(train)
    if (step % o.evalEvery === 0 || step === o.steps) {
      for (const protocol of ["internalization", "transfer"] as const) {
        const salt = protocol === "transfer" ? 20 : 10
        const avg = round(acc(step, salt) * (protocol === "transfer" ? 0.8 : 1))
        const pass = round(Math.min(1, avg + (hasMemory ? 0.25 : 0.12) + 0.04 * noise(m, o.seed, step, salt + 1)))
        const maj = round(Math.min(pass, avg + 0.05))
        const row: EvalRow = {
          kind: "eval", step, protocol, problems: protocol === "transfer" ? 100 : 200,
          memoryFree: { k, avgAtK: avg, passAtK: pass, majAtK: maj, headroom: round(pass - maj), greedy: round(avg + 0.02) },
          memoryAugmented: hasMemory
            ? { k, avgAtK: round(Math.min(1, avg + 0.15)), passAtK: round(Math.min(1, pass + 0.1)), majAtK: round(Math.min(1, maj + 0.15)), headroom: round(Math.max(0, pass - maj - 0.05)), greedy: round(Math.min(1, avg + 0.17)) }
            : null
        }
        rows.push(row)
      }
    }
  }
  const knobs = o.knobs ?? {}
  const knobPart = Object.entries(knobs).map(([k2, v]) => `-${k2}=${String(v)}`).join("")
  return { name: `${o.method}${knobPart}-s${o.seed}`, method: o.method, seed: o.seed, knobs, rows }
}

/** methods x seeds, no knobs. */
export const syntheticRuns = (methods: ReadonlyArray<string>, seeds: ReadonlyArray<number>, steps = 12, evalEvery = 3): Array<RunData> =>
  methods.flatMap((method) => seeds.map((seed) => syntheticRun({ method, seed, steps, evalEvery })))

/** Write runs as a sweep directory: one sub-folder per run with config.json and metrics.jsonl. */
export const writeSweep = async (dir: string, runs: ReadonlyArray<RunData>): Promise<void> => {
  for (const run of runs) {
    const sub = join(dir, run.name)
    await mkdir(sub, { recursive: true })
    await writeFile(join(sub, "config.json"), JSON.stringify({ method: run.method, seed: run.seed, knobs: run.knobs, steps: 12 }, null, 2))
    await writeFile(join(sub, "metrics.jsonl"), run.rows.map((r) => JSON.stringify(r)).join("\n") + "\n")
  }
}
