/**
 * Progress of a run: on a TTY one line redrawn in place; otherwise (CI, pipes, files) one plain line
 * per step and per evaluation.
 */
import type { MetricsRow } from "../protocol/metrics.ts"

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`

export const progressPrinter = (label: string, steps: number, tty = process.stdout.isTTY === true) => (row: MetricsRow): void => {
  if (row.kind === "train") {
    const line = `${label} step ${row.step}/${steps}  reward ${row.rewardMean.toFixed(3)}  loss ${row.loss.toFixed(4)}  teacher ${pct(row.teacherFraction)}  ` +
      `entropy ${row.entropy.toFixed(2)}  ever-solved ${pct(row.everSolved)}  mem ${row.memorySizes.experience}/${row.memorySizes.insights}/${row.memorySizes.behaviors}  ` +
      `${row.rolloutsPerSec.toFixed(0)} rollouts/s`
    if (tty) process.stdout.write(`\r\x1b[2K${line}`)
    else console.log(line)
  } else {
    const aug = row.memoryAugmented === null ? "" : `  with memory ${pct(row.memoryAugmented.avgAtK)}`
    const line = `${label} eval@${row.step} ${row.protocol}: avg@${row.memoryFree.k} ${pct(row.memoryFree.avgAtK)}  pass@k ${pct(row.memoryFree.passAtK)}  ` +
      `maj@k ${pct(row.memoryFree.majAtK)}  greedy ${pct(row.memoryFree.greedy)}${aug}`
    if (tty) process.stdout.write(`\r\x1b[2K${line}\n`)
    else console.log(line)
  }
}
