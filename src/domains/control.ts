/**
 * Control tokens shared by every domain, the memory renderer and the policy.
 *
 * Token ids 0..CONTROL_COUNT-1 are reserved for these; each domain's own tokens come after them in the
 * shared vocabulary (see vocab.ts). Memory blocks in the teacher's context are `[BLOCK] ... [END]`
 * spans, in the order of PMD App. B.2: problem, strategies, lessons, behaviors, solution, feedback.
 */
export const Control = {
  PAD: 0, // padding, never sampled
  BOS: 1, // start of a sequence
  EOS: 2, // end of a response
  SEP: 3, // separates items inside a block / examples inside a prompt
  PROB: 4, // [PROB] the problem statement (prompt) block
  STRAT: 5, // [STRAT] strategies from correct solutions to this problem
  LESSON: 6, // [LESSON] lessons from failed attempts on this problem
  BEH: 7, // [BEH] reusable behaviors (skills / mistakes to avoid) retrieved across problems
  SOL: 8, // [SOL] a correct solution from an earlier attempt
  FB: 9, // [FB] verifier feedback on an earlier failed attempt
  END: 10, // closes a block
  ANS: 11, // starts the response: the policy writes after this token
  AVOID: 12, // inside [BEH]/[LESSON]: what follows is a mistake to avoid
  CUE: 13, // a cluster cue inside the prompt
  ERR: 14, // inside [FB]: a runtime or parse error
  UNK: 15 // an out-of-vocabulary item (never produced by a generator)
} as const

export type ControlToken = (typeof Control)[keyof typeof Control]

/** Number of reserved control ids; domain tokens start here. */
export const CONTROL_COUNT = 16

/** The block-opening control tokens, in the order the teacher context lays them out. */
export const BLOCK_ORDER = [Control.STRAT, Control.LESSON, Control.BEH, Control.SOL, Control.FB] as const
