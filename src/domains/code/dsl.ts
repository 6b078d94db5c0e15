/**
 * The list DSL of the code domain: its ops, their meaning, and a parser from tokens to a program.
 *
 * Values are digits 0..9 and every op keeps them digits (arithmetic is mod 10), so lists always render
 * as digit tokens. Grammar (tokens after [ANS], up to the first [EOS]):
 *
 *   program := op*
 *   op      := UNARY                 rev sort sortd csum cmax dbl sq comp rotl rotr swap evens odds uniq dup
 *            | PARAM digit           take k, drop k, add k, mul k, push k, mod k
 *            | rep digit op          apply op k times (the one combinator; nesting is what makes fuel matter)
 *
 * The parser is total: any token sequence gives a program or a ParseError, never an exception, and it
 * looks only at token ids (nothing is ever evaluated as host code). Its recursion depth is bounded by the
 * program length, which the verifier caps.
 */
import { Control } from "../control.ts"
import { Op, PARAM_OP_NAMES, UNARY_OP_NAMES, digitToken, tokenDigit, type ParamOpName, type UnaryOpName } from "../vocab.ts"

export type Instr =
  | { readonly kind: "unary"; readonly op: UnaryOpName }
  | { readonly kind: "param"; readonly op: Exclude<ParamOpName, "rep">; readonly k: number }
  | { readonly kind: "rep"; readonly k: number; readonly body: Instr }

export type Program = ReadonlyArray<Instr>

export interface ParseError {
  readonly _tag: "ParseError"
  /** Index of the offending token in the response. */
  readonly at: number
  readonly reason: string
}

const unaryByToken = new Map<number, UnaryOpName>(UNARY_OP_NAMES.map((n) => [Op[n], n]))
const paramByToken = new Map<number, ParamOpName>(PARAM_OP_NAMES.map((n) => [Op[n], n]))

/** The program part of a response: the tokens before the first [EOS] (all of them if there is none). */
export const programTokens = (response: ReadonlyArray<number>): ReadonlyArray<number> => {
  const end = response.indexOf(Control.EOS)
  return end < 0 ? response : response.slice(0, end)
}

/** Parses program tokens (no [EOS]) into a program, or says where and why it fails. */
export const parse = (tokens: ReadonlyArray<number>): Program | ParseError => {
  const out: Array<Instr> = []
  let i = 0
  const fail = (at: number, reason: string): ParseError => ({ _tag: "ParseError", at, reason })
  const instr = (): Instr | ParseError => {
    const t = tokens[i]
    if (t === undefined) return fail(i, "expected an op, found the end")
    const u = unaryByToken.get(t)
    if (u !== undefined) {
      i++
      return { kind: "unary", op: u }
    }
    const p = paramByToken.get(t)
    if (p === undefined) return fail(i, `token ${t} is not an op`)
    const k = tokens[i + 1] === undefined ? undefined : tokenDigit(tokens[i + 1]!)
    if (k === undefined) return fail(i + 1, `${p} needs a digit parameter`)
    i += 2
    if (p !== "rep") return { kind: "param", op: p, k }
    const body = instr()
    return "_tag" in body ? body : { kind: "rep", k, body }
  }
  while (i < tokens.length) {
    const r = instr()
    if ("_tag" in r) return r
    out.push(r)
  }
  return out
}

export const isParseError = (r: Program | ParseError): r is ParseError => "_tag" in r

/** Tokens of a program (the inverse of `parse`), without [EOS]. */
export const programToTokens = (program: Program): Array<number> => {
  const out: Array<number> = []
  const emit = (ins: Instr): void => {
    switch (ins.kind) {
      case "unary":
        out.push(Op[ins.op])
        return
      case "param":
        out.push(Op[ins.op], digitToken(ins.k))
        return
      case "rep":
        out.push(Op.rep, digitToken(ins.k))
        emit(ins.body)
    }
  }
  program.forEach(emit)
  return out
}

/** Length-preserving, parameterless ops: the pool cluster skills are drawn from. */
export const SKILL_OPS: ReadonlyArray<UnaryOpName> = [
  "rev", "sort", "sortd", "csum", "cmax", "dbl", "sq", "comp", "rotl", "rotr", "swap"
]

/** One application of a unary op. Pure; lists are never mutated. */
export const applyUnary = (op: UnaryOpName, xs: ReadonlyArray<number>): Array<number> => {
  switch (op) {
    case "rev":
      return [...xs].reverse()
    case "sort":
      return [...xs].sort((a, b) => a - b)
    case "sortd":
      return [...xs].sort((a, b) => b - a)
    case "csum": {
      let s = 0
      return xs.map((x) => (s = (s + x) % 10))
    }
    case "cmax": {
      let m = 0
      return xs.map((x) => (m = Math.max(m, x)))
    }
    case "dbl":
      return xs.map((x) => (x * 2) % 10)
    case "sq":
      return xs.map((x) => (x * x) % 10)
    case "comp":
      return xs.map((x) => 9 - x)
    case "rotl":
      return xs.length === 0 ? [] : [...xs.slice(1), xs[0]!]
    case "rotr":
      return xs.length === 0 ? [] : [xs[xs.length - 1]!, ...xs.slice(0, -1)]
    case "swap": {
      const out = [...xs]
      for (let i = 0; i + 1 < out.length; i += 2) [out[i], out[i + 1]] = [out[i + 1]!, out[i]!]
      return out
    }
    case "evens":
      return xs.filter((x) => x % 2 === 0)
    case "odds":
      return xs.filter((x) => x % 2 === 1)
    case "uniq":
      return xs.filter((x, i) => i === 0 || xs[i - 1] !== x)
    case "dup":
      return xs.flatMap((x) => [x, x])
  }
}

/** One application of a parameterised op; `undefined` means division by zero (mod 0). */
export const applyParam = (
  op: Exclude<ParamOpName, "rep">,
  k: number,
  xs: ReadonlyArray<number>
): Array<number> | undefined => {
  switch (op) {
    case "take":
      return xs.slice(0, k)
    case "drop":
      return xs.slice(k)
    case "add":
      return xs.map((x) => (x + k) % 10)
    case "mul":
      return xs.map((x) => (x * k) % 10)
    case "push":
      return [...xs, k]
    case "mod":
      return k === 0 ? undefined : xs.map((x) => x % k)
  }
}
