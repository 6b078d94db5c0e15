/**
 * Recall (`memory.recall`, findings §17): each step, some problems the run has solved before and that are
 * not in the step's batch have their best stored success (replay.ts's choice) learned by next-token loss
 * under a memory-free prompt. A problem comes back only once an epoch, and between visits the other
 * problems' updates pull its solution down (findings §17 measures the drift), so what the experience
 * level holds otherwise reaches the student only at the few visits whose rollouts all fail. Recall makes
 * the memory a rehearsal buffer for the memory-free student (self-imitation from the model's own past).
 * Which problems, and their prompts, come from streams keyed by (seed, step): the same on every machine.
 */
import { Rng } from "../../src/core/Rng.ts"
import type { ExperienceItem } from "../../src/memory/experience/experience.ts"
import type { RehearsalRow } from "../../src/protocol/policy.ts"
import { bestStoredSuccess } from "./replay.ts"

/** `n` problems drawn without replacement from those solved before, leaving out the step's batch. */
export const recallPicks = (seed: number, step: number, everSolved: ReadonlyArray<string>, batch: ReadonlyArray<string>, n: number): Array<string> => {
  const inBatch = new Set(batch)
  const candidates = [...everSolved].sort().filter((id) => !inBatch.has(id))
  return Rng.root(seed).fork("recall", step).shuffle(candidates).slice(0, n)
}

export interface RecallInput {
  /** a memory-free prompt of the problem */
  readonly prompt: ReadonlyArray<number>
  /** its stored successes in the pinned memory version */
  readonly successes: ReadonlyArray<ExperienceItem>
}

/** One row per picked problem that has a stored success, in the order given. */
export const recallRows = (picked: ReadonlyArray<RecallInput>): Array<RehearsalRow> =>
  picked.flatMap((p) => {
    const best = bestStoredSuccess(p.successes)
    return best === undefined || best.response.length === 0 ? [] : [{ prompt: p.prompt, response: best.response }]
  })
