/**
 * The science verifier: extracts the answer letter by rule (the last option-letter token before [EOS])
 * and, in "steps" mode, checks the working (first digit token = step 1, first property token = step 2).
 * Kept apart from generation so verifier worker threads load fast.
 */
import { Control } from "../control.ts"
import type { Verdict } from "../Domain.ts"
import { errorFeedback } from "../feedback.ts"
import { Mark, PROPERTY_BASE, PROPERTIES, propertyToken, tokenDigit, tokenLetter } from "../vocab.ts"
import type { ScienceConfig } from "./config.ts"
import type { ScienceProblem } from "./generate.ts"

const isProperty = (t: number): boolean => Number.isInteger(t) && t >= PROPERTY_BASE && t < PROPERTY_BASE + PROPERTIES

const wrong = (total: number, passed: number, got: number): Verdict => ({
  reward: 0, passed, total, solved: false, feedback: [Control.FB, Mark.GOT, got, Control.END]
})

/** Verifies one response; total over any token sequence. */
export const verifyScience = (config: ScienceConfig, problem: ScienceProblem, response: ReadonlyArray<number>): Verdict => {
  const total = config.reward === "steps" ? 3 : 1
  const end = response.indexOf(Control.EOS)
  const body = end < 0 ? response : response.slice(0, end)
  if (body.length > config.responseTokensMax) {
    return { reward: 0, passed: 0, total, solved: false, feedback: errorFeedback("toolong"), error: "toolong" }
  }
  let letterAt = -1
  for (let i = body.length - 1; i >= 0 && letterAt < 0; i--) if (tokenLetter(body[i]!) !== undefined) letterAt = i
  const letterRight = letterAt >= 0 && tokenLetter(body[letterAt]!) === problem.answer
  if (config.reward === "answer") {
    if (letterAt < 0) return { reward: 0, passed: 0, total, solved: false, feedback: errorFeedback("parse"), error: "parse" }
    return letterRight
      ? { reward: 1, passed: 1, total, solved: true, feedback: [] }
      : wrong(total, 0, body[letterAt]!)
  }
  const digit = body.find((t) => tokenDigit(t) !== undefined)
  const prop = body.find(isProperty)
  const checks = [
    digit !== undefined && tokenDigit(digit) === problem.working[0],
    prop !== undefined && prop === propertyToken(problem.working[1]),
    letterRight
  ]
  const passed = checks.filter((c) => c).length
  if (passed === total) return { reward: 1, passed, total, solved: true, feedback: [] }
  const firstWrong = checks.indexOf(false)
  const got = [digit, prop, letterAt >= 0 ? body[letterAt] : undefined][firstWrong]
  const base = got === undefined
    ? { reward: 0, passed, total, solved: false, feedback: errorFeedback("parse"), error: "parse" as const }
    : wrong(total, passed, got)
  return { ...base, reward: passed / total }
}

