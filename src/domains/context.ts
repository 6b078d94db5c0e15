/**
 * The one layout of a conditioned context, shared by the warm-up, the memory renderer and the teacher
 * (PMD App. B.2: the problem, then the memory / hint blocks, then "solve the original question"):
 *
 *   [PROB] ...problem... [STRAT] .. [END] [LESSON] .. [END] [BEH] .. [END] [SOL] .. [END] [FB] .. [END] [ANS]
 *
 * A domain prompt ends with [ANS]; blocks go right before it, so the response that follows is scored
 * under exactly the same positions whatever produced the blocks.
 */
import { Control } from "./control.ts"

/** Inserts complete `[BLOCK] ... [END]` spans before the prompt's final [ANS]. */
export const withBlocks = (prompt: ReadonlyArray<number>, blocks: ReadonlyArray<number>): Array<number> => {
  if (prompt[prompt.length - 1] !== Control.ANS) throw new RangeError("withBlocks: a prompt must end with [ANS]")
  return [...prompt.slice(0, -1), ...blocks, Control.ANS]
}

/** A complete block `[open] ...body [END]`. */
export const block = (open: number, body: ReadonlyArray<number>): Array<number> => [open, ...body, Control.END]

/** Items joined by [SEP] inside one block. */
export const joinItems = (items: ReadonlyArray<ReadonlyArray<number>>): Array<number> =>
  items.flatMap((item, i) => (i === 0 ? [...item] : [Control.SEP, ...item]))
