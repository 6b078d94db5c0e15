import { describe, expect, it } from "vitest"
import { CONTROL_COUNT, Control } from "../../src/domains/control.ts"
import {
  ErrKind, LETTER_BASE, Mark, Op, TOKEN_NAMES, VOCAB_SIZE, VocabError, cueToken, digitToken, parseRendered, render,
  tokenDigit, tokenLetter, tokenName, tokenOf
} from "../../src/domains/vocab.ts"

describe("vocab", () => {
  it("keeps the control ids and fits in 128 tokens with unique names", () => {
    expect(VOCAB_SIZE).toBeLessThanOrEqual(128)
    expect(TOKEN_NAMES).toHaveLength(VOCAB_SIZE)
    expect(new Set(TOKEN_NAMES).size).toBe(VOCAB_SIZE)
    expect(tokenOf("[ANS]")).toBe(Control.ANS)
    expect(tokenOf("[UNK]")).toBe(CONTROL_COUNT - 1)
    expect(digitToken(0)).toBe(CONTROL_COUNT)
  })

  it("named blocks agree with the display names", () => {
    expect(tokenName(Mark.ARROW)).toBe("->")
    expect(tokenName(Op.rev)).toBe("rev")
    expect(tokenName(Op.rep)).toBe("rep")
    expect(tokenName(ErrKind.E_DIV)).toBe("div0")
    expect(tokenName(cueToken(3))).toBe("c3")
    expect(tokenName(LETTER_BASE + 3)).toBe("D")
  })

  it("render and parseRendered are inverse; out-of-range ids render but lookups throw", () => {
    const all = Array.from({ length: VOCAB_SIZE }, (_, i) => i)
    expect(parseRendered(render(all))).toEqual(all)
    expect(render([Control.PROB, -1, 500])).toBe("[PROB] <?-1> <?500>")
    expect(() => tokenName(VOCAB_SIZE)).toThrow(VocabError)
    expect(() => tokenOf("nope")).toThrow(VocabError)
    expect(() => digitToken(10)).toThrow(VocabError)
    expect(tokenDigit(digitToken(7))).toBe(7)
    expect(tokenDigit(Op.rev)).toBeUndefined()
    expect(tokenLetter(LETTER_BASE + 2)).toBe(2)
    expect(tokenLetter(Control.EOS)).toBeUndefined()
  })
})
