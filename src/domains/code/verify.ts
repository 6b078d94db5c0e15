/**
 * The code verifier: runs a response on a problem's hidden tests in the sandboxed interpreter.
 * Kept apart from generation (it imports no Rng, codec or hashing) so verifier worker threads load fast.
 *
 * Feedback: [FB] x.. -> expected.. got got.. [END] for the first failing test (`got` cut to
 * feedbackGotMax digits), or [FB] [ERR] kind [END] (kind: parse, fuel, size, div0, toolong).
 */
import { Control } from "../control.ts"
import type { ErrorKind, Protocol, Verdict } from "../Domain.ts"
import { errorFeedback } from "../feedback.ts"
import { Mark, digitToken } from "../vocab.ts"
import type { CodeConfig } from "./config.ts"
import { isParseError, parse, programTokens } from "./dsl.ts"
import type { CodeProblem } from "./generate.ts"
import { run } from "./interp.ts"

const digits = (xs: ReadonlyArray<number>): Array<number> => xs.map(digitToken)

/** The tests a protocol checks: the first half for "train", all for "eval". */
export const testsFor = (problem: CodeProblem, protocol: Protocol): CodeProblem["tests"] =>
  protocol === "train" ? problem.tests.slice(0, problem.tests.length / 2) : problem.tests

const failed = (total: number, error: ErrorKind): Verdict => ({
  reward: 0, passed: 0, total, solved: false, feedback: errorFeedback(error), error
})

/**
 * Verifies one response; total over any token sequence: never throws, and bounded (at most
 * testsPerProblem runs of at most limits.fuel interpreter steps each, `rep` iterations included; see
 * the bound in config.ts).
 */
export const verifyCode = (
  config: CodeConfig,
  problem: CodeProblem,
  response: ReadonlyArray<number>,
  protocol: Protocol
): Verdict => {
  const tests = testsFor(problem, protocol)
  const total = tests.length
  const body = programTokens(response)
  if (body.length > config.programTokensMax) return failed(total, "toolong")
  const program = parse(body)
  if (isParseError(program)) return failed(total, "parse")
  let passed = 0
  let feedback: Array<number> = []
  let error: ErrorKind | undefined
  for (const t of tests) {
    const r = run(program, t.input, config.limits)
    const ok = r.ok && r.output.length === t.output.length && r.output.every((x, i) => x === t.output[i])
    if (ok) {
      passed++
    } else if (feedback.length === 0) {
      if (r.ok) {
        const got = digits(r.output.slice(0, config.feedbackGotMax))
        feedback = [Control.FB, ...digits(t.input), Mark.ARROW, ...digits(t.output), Mark.GOT, ...got, Control.END]
      } else {
        error = r.error
        feedback = errorFeedback(r.error)
      }
    }
  }
  const solved = passed === total
  const reward = config.reward === "sparse" ? (solved ? 1 : 0) : passed / total
  return error === undefined ? { reward, passed, total, solved, feedback } : { reward, passed, total, solved, feedback, error }
}

