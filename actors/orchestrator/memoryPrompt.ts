/**
 * The memory-augmented prompt: a problem's memory view composed into the student's own prompt, with no
 * sibling and no feedback of the current batch. What the memory-augmented evaluation samples from, and
 * what rehearsal (`memory.rehearsal`) trains on, so the two measure and train one and the same reading.
 */
import type { RunConfig } from "../../src/config/RunConfig.ts"
import { compose, type Composed, type MemoryView } from "../../src/memory/retrieval/compose.ts"

export const memoryPrompt = (cfg: RunConfig, view: MemoryView, prompt: ReadonlyArray<number>): Composed => {
  // as for the teacher: stored feedback only when no stored solution is shown
  const feedback = (view.experience?.successes.length ?? 0) > 0 ? { feedback: [] } : {}
  return compose(view, { prompt }, { levels: cfg.memory.levels, budget: cfg.memory.contextTokensMax, ...feedback })
}
