/**
 * Rehearsal (`memory.rehearsal`, issue #13's "rehearsal of memory-conditioned sequences in the student's
 * loss"): every rollout that solved its problem this step is also learned, by next-token loss, under its
 * problem's memory-augmented prompt (memoryPrompt.ts, the prompt the memory-augmented evaluation uses),
 * read from the step's pinned memory version. The student is otherwise trained on memory-free prompts
 * only, and the network that serves as teacher loses its skill of reading memory (findings §2); this
 * keeps that reading in the loss. A problem whose view renders no block adds no row.
 */
import type { RunConfig } from "../../src/config/RunConfig.ts"
import type { MemoryView } from "../../src/memory/retrieval/compose.ts"
import type { RehearsalRow } from "../../src/protocol/policy.ts"
import { memoryPrompt } from "./memoryPrompt.ts"

export interface RehearsalInput {
  /** the memory-free prompt the student saw at this visit */
  readonly prompt: ReadonlyArray<number>
  /** the problem's view of the pinned memory version */
  readonly view: MemoryView
  /** this step's solving responses to the problem, in rollout order */
  readonly solutions: ReadonlyArray<ReadonlyArray<number>>
}

/** Rehearsal rows for the problems of a step, in the order given. */
export const rehearsalRows = (cfg: RunConfig, problems: ReadonlyArray<RehearsalInput>): Array<RehearsalRow> =>
  problems.flatMap((p) => {
    if (p.solutions.length === 0) return []
    const composed = memoryPrompt(cfg, p.view, p.prompt)
    return composed.blocks.length === 0 ? [] : p.solutions.map((response) => ({ prompt: composed.tokens, response }))
  })
