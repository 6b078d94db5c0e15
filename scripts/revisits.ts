/**
 * How much can a memory lag matter? PMD's experience is per problem, and a lag k hides a problem's
 * previous visit only when it came back fewer than k steps ago. From the run's own epoch schedule
 * (actors/orchestrator/batches.ts) this prints, for a training split of N problems, B problems per step
 * and S steps over seeds 1..K, the share of visits that are revisits and the share of revisits whose
 * previous visit each lag hides (docs/findings/staleness.md).
 *
 *   node scripts/revisits.ts N B S [K=5]      e.g. node scripts/revisits.ts 320 8 60
 */
import { batchAt } from "../actors/orchestrator/batches.ts"

const [n, batch, steps, seeds = 5] = process.argv.slice(2).map(Number)
if (![n, batch, steps, seeds].every((x) => Number.isInteger(x) && x! > 0)) {
  console.error("usage: node scripts/revisits.ts TRAIN_PROBLEMS BATCH_PROBLEMS STEPS [SEEDS]")
  process.exit(2)
}
const LAGS = [1, 2, 4, 8, 16, 32]
const ids = Array.from({ length: n! }, (_, i) => `p${String(i).padStart(6, "0")}`)
const hidden = LAGS.map(() => 0)
let visits = 0
let revisits = 0
for (let seed = 1; seed <= seeds; seed++) {
  const last = new Map<string, number>()
  for (let t = 0; t < steps!; t++) {
    for (const id of batchAt(seed, ids, batch!, t)) {
      visits++
      const prev = last.get(id)
      if (prev !== undefined) {
        revisits++
        LAGS.forEach((k, i) => { if (t - prev < k) hidden[i]!++ })
      }
      last.set(id, t)
    }
  }
}
const pct = (x: number, of: number) => `${((100 * x) / Math.max(1, of)).toFixed(1)}%`
console.log(`${n} problems, ${batch} per step, ${steps} steps, seeds 1-${seeds}: ${visits} visits, ${pct(revisits, visits)} revisits`)
console.log(`revisits whose previous visit a lag hides: ${LAGS.map((k, i) => `lag ${k} ${pct(hidden[i]!, revisits)}`).join(", ")}`)
