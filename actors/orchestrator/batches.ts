/**
 * Which training problems each step visits: epochs are seeded permutations of the train split
 * (keyed by (seed, "epoch", e)), consumed `batchProblems` at a time, so every problem is visited
 * once per epoch and the schedule depends only on the seed, never on timing.
 */
import { Rng } from "../../src/core/Rng.ts"

/** Problem ids of step `step` (0-based), in canonical (sorted) order. */
export const batchAt = (seed: number, ids: ReadonlyArray<string>, batchProblems: number, step: number): Array<string> => {
  const n = ids.length
  const size = Math.min(batchProblems, n)
  const out: Array<string> = []
  let pos = step * size
  while (out.length < size) {
    const epoch = Math.floor(pos / n)
    const perm = Rng.root(seed).fork("epoch", epoch).shuffle(ids)
    const take = perm.slice(pos % n, Math.min(n, (pos % n) + size - out.length))
    out.push(...take)
    pos += take.length
  }
  return [...new Set(out)].sort()
}
