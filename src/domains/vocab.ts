/**
 * The one token vocabulary shared by every domain, the memory renderer and the policy.
 *
 * Layout (ids are stable: checkpoints, journals and cached warm-ups depend on them; only append):
 *   0..15    control tokens of control.ts (PAD, BOS, EOS, SEP, block markers, ANS, CUE, ERR, ...)
 *   16..25   digits 0..9 (list values, parameters, science feature values and working)
 *   26..27   ARROW (input -> output inside an example / test), GOT (what a failed attempt produced)
 *   28..49   code DSL ops: 15 unary list ops, then 7 ops taking one digit parameter
 *   50..54   error kinds that follow [ERR] in feedback
 *   55..78   cluster cue buckets c0..c23 (a prompt carries `[CUE] cN`)
 *   79..82   science subdomains, 83..90 entity features, 91..98 property values, 99..102 option letters
 *
 * `render` gives a readable string for logs and docs; `tokenOf` is its inverse for single names.
 */
import { CONTROL_COUNT } from "./control.ts"

const CONTROL_NAMES = [
  "[PAD]", "[BOS]", "[EOS]", "[SEP]", "[PROB]", "[STRAT]", "[LESSON]", "[BEH]",
  "[SOL]", "[FB]", "[END]", "[ANS]", "[AVOID]", "[CUE]", "[ERR]", "[UNK]"
] as const

/** A contiguous block of named ids starting at `start`. */
const block = <const N extends string>(start: number, names: ReadonlyArray<N>): { readonly [K in N]: number } =>
  Object.fromEntries(names.map((n, i) => [n, start + i])) as { readonly [K in N]: number }

/** First digit id: digit d is token DIGIT_BASE + d. */
export const DIGIT_BASE = CONTROL_COUNT // 16

/** Tokens used inside code examples and feedback. */
export const Mark = block(26, ["ARROW", "GOT"] as const)

/** Parameterless list ops of the code DSL (see code/dsl.ts for their meaning). */
export const UNARY_OP_NAMES = [
  "rev", "sort", "sortd", "csum", "cmax", "dbl", "sq", "comp", "rotl", "rotr", "swap", "evens", "odds", "uniq", "dup"
] as const
/** DSL ops followed by one digit parameter; `rep k op` applies the next op k times. */
export const PARAM_OP_NAMES = ["take", "drop", "add", "mul", "push", "mod", "rep"] as const
export type UnaryOpName = (typeof UNARY_OP_NAMES)[number]
export type ParamOpName = (typeof PARAM_OP_NAMES)[number]
export type OpName = UnaryOpName | ParamOpName

export const Op = block(28, [...UNARY_OP_NAMES, ...PARAM_OP_NAMES] as const)

/** Error kinds after [ERR]: parse error, fuel exhausted, list too large, division by zero, response too long. */
export const ErrKind = block(50, ["E_PARSE", "E_FUEL", "E_SIZE", "E_DIV", "E_LEN"] as const)
export type ErrKindName = keyof typeof ErrKind

export const CUE_BUCKETS = 24
export const CUE_BASE = 55

export const SCIENCE_SUBDOMAINS = ["bio", "chem", "phys", "mat"] as const
export type ScienceSubdomain = (typeof SCIENCE_SUBDOMAINS)[number]
export const Subdomain = block(79, SCIENCE_SUBDOMAINS)
export const FEATURES = 8
export const FEATURE_BASE = 83
export const PROPERTIES = 8
export const PROPERTY_BASE = 91
export const OPTION_LETTERS = ["A", "B", "C", "D"] as const
export const LETTER_BASE = 99

/** Number of token ids; every id is in [0, VOCAB_SIZE). */
export const VOCAB_SIZE = 103

const names: Array<string> = [...CONTROL_NAMES]
for (let d = 0; d < 10; d++) names.push(String(d))
names.push("->", "got", ...UNARY_OP_NAMES, ...PARAM_OP_NAMES, "parse", "fuel", "size", "div0", "toolong")
for (let i = 0; i < CUE_BUCKETS; i++) names.push(`c${i}`)
names.push(...SCIENCE_SUBDOMAINS)
for (let i = 0; i < FEATURES; i++) names.push(`f${i}`)
for (let i = 0; i < PROPERTIES; i++) names.push(`p${i}`)
names.push(...OPTION_LETTERS)
if (names.length !== VOCAB_SIZE) throw new Error(`vocab: layout has ${names.length} names, expected ${VOCAB_SIZE}`)

/** Display names, indexed by token id. */
export const TOKEN_NAMES: ReadonlyArray<string> = names
const byName = new Map(names.map((n, i) => [n, i]))

/** An error for a token or name outside the vocabulary. */
export class VocabError extends Error {
  readonly _tag = "VocabError"
}

export const isToken = (t: number): boolean => Number.isInteger(t) && t >= 0 && t < VOCAB_SIZE

/** The display name of a token; throws VocabError outside the vocabulary. */
export const tokenName = (t: number): string => {
  if (!isToken(t)) throw new VocabError(`vocab: ${t} is not a token id (0..${VOCAB_SIZE - 1})`)
  return names[t]!
}

/** The token with display name `name`; throws VocabError if there is none. */
export const tokenOf = (name: string): number => {
  const t = byName.get(name)
  if (t === undefined) throw new VocabError(`vocab: no token named '${name}'`)
  return t
}

/** Space-separated display names; ids outside the vocabulary render as `<?id>` (logs must never throw). */
export const render = (tokens: ReadonlyArray<number>): string =>
  tokens.map((t) => (isToken(t) ? names[t]! : `<?${t}>`)).join(" ")

/** Parses `render`'s output back to tokens (for tests and hand-written fixtures). */
export const parseRendered = (text: string): Array<number> =>
  text.trim() === "" ? [] : text.trim().split(/\s+/).map(tokenOf)

export const digitToken = (d: number): number => {
  if (!Number.isInteger(d) || d < 0 || d > 9) throw new VocabError(`vocab: ${d} is not a digit`)
  return DIGIT_BASE + d
}

/** The digit a token stands for, or undefined if it is not a digit token. */
export const tokenDigit = (t: number): number | undefined =>
  Number.isInteger(t) && t >= DIGIT_BASE && t < DIGIT_BASE + 10 ? t - DIGIT_BASE : undefined

export const cueToken = (bucket: number): number => CUE_BASE + (((bucket % CUE_BUCKETS) + CUE_BUCKETS) % CUE_BUCKETS)
export const featureToken = (i: number): number => FEATURE_BASE + i
export const propertyToken = (i: number): number => PROPERTY_BASE + i
export const letterToken = (i: number): number => LETTER_BASE + i

/** Index 0..3 of an option-letter token, or undefined. */
export const tokenLetter = (t: number): number | undefined =>
  Number.isInteger(t) && t >= LETTER_BASE && t < LETTER_BASE + OPTION_LETTERS.length ? t - LETTER_BASE : undefined
