import { describe, expect, it } from "vitest"
import { Rng } from "../../src/core/Rng.ts"
import { Control } from "../../src/domains/control.ts"
import { makeCodeDomain } from "../../src/domains/code/codeDomain.ts"
import { isParseError, parse, type Instr, type Program } from "../../src/domains/code/dsl.ts"
import { run } from "../../src/domains/code/interp.ts"
import { Mark, tokenDigit } from "../../src/domains/vocab.ts"

// ARCHITECTURE §9 (a): with the cluster's skill known (a skill hint), the problem-specific tail must be
// readable from one visit's examples. This enumerates every tier 0-2 tail and checks that the examples
// of a prompt leave exactly the reference one.
const p = (op: "take" | "push" | "add", k: number): Instr => ({ kind: "param", op, k })
const pushes = Array.from({ length: 10 }, (_, k) => [p("push", k)])
const heads = [...[1, 2, 3].map((k) => p("take", k)), ...Array.from({ length: 9 }, (_, k) => p("add", k + 1))]
const tails: Array<Program> = [...pushes, ...heads.map((h) => [h]), ...heads.flatMap((h) => pushes.map((t) => [h, ...t]))]

const examplesOf = (prompt: ReadonlyArray<number>): Array<[Array<number>, Array<number>]> => {
  const out: Array<[Array<number>, Array<number>]> = []
  let cur: Array<number> = []
  let input: Array<number> = []
  for (const t of [...prompt.slice(3, -1), Control.SEP]) {
    if (t === Mark.ARROW) [input, cur] = [cur, []]
    else if (t === Control.SEP) [out[out.length], cur] = [[input, cur], []]
    else cur.push(tokenDigit(t)!)
  }
  return out
}

describe("code learnability", () => {
  it("given the skill, one visit's examples identify the tail of >= 95% of tier 0-2 problems", () => {
    const d = makeCodeDomain({}, 2)
    let unique = 0
    let total = 0
    for (const prob of d.problems("heldout").filter((q) => q.difficulty < 3)) {
      const skill = parse(prob.skill)
      if (isParseError(skill)) throw new Error(skill.reason)
      const examples = examplesOf(d.prompt(prob, Rng.root("learn").fork(prob.id)))
      expect(examples).toHaveLength(3)
      const fits = tails.filter((t) => examples.every(([i, o]) => {
        const r = run([...skill, ...t], i)
        return r.ok && r.output.join() === o.join()
      }))
      total++
      if (fits.length === 1) unique++
      expect(fits.length).toBeGreaterThanOrEqual(1) // the reference tail always fits
    }
    expect(unique / total).toBeGreaterThanOrEqual(0.95)
  })
})
