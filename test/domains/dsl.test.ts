import { describe, expect, it } from "vitest"
import { test as fcTest, fc } from "@fast-check/vitest"
import { isParseError, parse, programToTokens, type Instr } from "../../src/domains/code/dsl.ts"
import { run } from "../../src/domains/code/interp.ts"
import { PARAM_OP_NAMES, UNARY_OP_NAMES, parseRendered } from "../../src/domains/vocab.ts"

const runText = (text: string, input: Array<number>) => {
  const prog = parse(parseRendered(text))
  if (isParseError(prog)) throw new Error(prog.reason)
  return run(prog, input)
}

const instr: fc.Arbitrary<Instr> = fc.letrec<{ i: Instr }>((tie) => ({
  i: fc.oneof(
    { depthSize: "small" },
    fc.constantFrom(...UNARY_OP_NAMES).map((op): Instr => ({ kind: "unary", op })),
    fc.record({ op: fc.constantFrom(...PARAM_OP_NAMES.filter((n) => n !== "rep")), k: fc.integer({ min: 0, max: 9 }) })
      .map(({ op, k }): Instr => ({ kind: "param", op: op as Exclude<typeof op, "rep">, k })),
    fc.record({ k: fc.integer({ min: 0, max: 9 }), body: tie("i") }).map(({ k, body }): Instr => ({ kind: "rep", k, body }))
  )
})).i

describe("list DSL", () => {
  it("ops mean what the docs say", () => {
    const x = [3, 1, 4, 1, 5]
    const cases: Array<[string, Array<number>]> = [
      ["rev", [5, 1, 4, 1, 3]], ["sort", [1, 1, 3, 4, 5]], ["sortd", [5, 4, 3, 1, 1]], ["csum", [3, 4, 8, 9, 4]],
      ["cmax", [3, 3, 4, 4, 5]], ["dbl", [6, 2, 8, 2, 0]], ["sq", [9, 1, 6, 1, 5]], ["comp", [6, 8, 5, 8, 4]],
      ["rotl", [1, 4, 1, 5, 3]], ["rotr", [5, 3, 1, 4, 1]], ["swap", [1, 3, 1, 4, 5]], ["evens", [4]],
      ["odds", [3, 1, 1, 5]], ["uniq", [3, 1, 4, 1, 5]], ["dup", [3, 3, 1, 1, 4, 4, 1, 1, 5, 5]], ["take 2", [3, 1]],
      ["drop 3", [1, 5]], ["add 7", [0, 8, 1, 8, 2]], ["mul 3", [9, 3, 2, 3, 5]], ["push 0", [3, 1, 4, 1, 5, 0]],
      ["mod 3", [0, 1, 1, 1, 2]], ["rep 2 rotl", [4, 1, 5, 3, 1]], ["rep 0 rev", x], ["sort rev take 2", [5, 4]]
    ]
    for (const [text, want] of cases) expect(runText(text, x)).toMatchObject({ ok: true, output: want })
  })

  fcTest.prop([fc.array(instr, { maxLength: 5 })], { seed: 3, numRuns: 300 })(
    "programToTokens and parse are inverse", (program) => {
      expect(parse(programToTokens(program))).toEqual(program)
    }
  )

  fcTest.prop([fc.array(instr, { maxLength: 5 }), fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 8 })], { seed: 4, numRuns: 300 })(
    "runs are total, bounded by fuel and size, and keep values digits", (program, input) => {
      const r = run(program, input, { fuel: 300, sizeMax: 32 })
      expect(r.fuelUsed).toBeLessThanOrEqual(300)
      if (r.ok) {
        expect(r.output.length).toBeLessThanOrEqual(32)
        expect(r.output.every((v) => Number.isInteger(v) && v >= 0 && v <= 9)).toBe(true)
      }
    }
  )
})
