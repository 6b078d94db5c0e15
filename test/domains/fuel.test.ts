/**
 * Every DSL program terminates within its fuel (issue #12, items 6 and 10).
 *
 * The interpreter reports its own `fuelUsed` and `steps`; these tests do not take its word for it. A meter
 * outside the interpreter counts what it really does: the DSL module is mocked so that every primitive op
 * application is counted with the length of its input and output, and every program that `parse` returns
 * is wrapped in proxies that count each read of an instruction node (an interpreter cannot execute an
 * instruction, or a `rep` iteration, without reading its node). Once the reads pass a cap proportional to
 * the fuel, the meter throws, so a run that ignores its fuel fails the test at once instead of hanging it
 * (no wall clock involved).
 */
import { describe, expect, it, vi } from "vitest"
import { test as fcTest, fc } from "@fast-check/vitest"
import { Control } from "../../src/domains/control.ts"
import { DomainConfigError } from "../../src/domains/Domain.ts"
import { codeConfig, type CodeConfig } from "../../src/domains/code/config.ts"
import { makeCodeDomain } from "../../src/domains/code/codeDomain.ts"
import { isParseError, parse, type Instr, type Program } from "../../src/domains/code/dsl.ts"
import type { CodeProblem } from "../../src/domains/code/generate.ts"
import { DEFAULT_LIMITS, run, type Limits, type RunResult } from "../../src/domains/code/interp.ts"
import { verifyCode } from "../../src/domains/code/verify.ts"
import { ErrKind, Op, PARAM_OP_NAMES, UNARY_OP_NAMES, digitToken, parseRendered } from "../../src/domains/vocab.ts"

/** Node reads allowed per unit of fuel (ours reads at most 4: kind twice, op, k; or k and body per iteration). */
const READS_PER_FUEL = 8

const meter = vi.hoisted(() => {
  class MeterTripped extends Error {}
  const m = {
    MeterTripped,
    /** Reads of instruction nodes since the last arm(). */
    reads: 0,
    cap: Number.POSITIVE_INFINITY,
    /** Primitive op applications, the fuel they should cost (1 + input length), the elements they touched. */
    prims: 0,
    primCharge: 0,
    elements: 0,
    arm(cap: number): void {
      m.reads = 0
      m.cap = cap
      m.prims = 0
      m.primCharge = 0
      m.elements = 0
    },
    read(): void {
      if (++m.reads > m.cap) throw new MeterTripped(`interpreter read ${m.reads} instruction nodes, cap ${m.cap}`)
    },
    prim(input: ReadonlyArray<number>, output: ReadonlyArray<number> | undefined): void {
      m.prims++
      m.primCharge += 1 + input.length
      m.elements += input.length + (output?.length ?? 0)
    }
  }
  return m
})

vi.mock("../../src/domains/code/dsl.ts", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../src/domains/code/dsl.ts")>()
  const watch = (ins: Instr): Instr =>
    new Proxy(ins.kind === "rep" ? { ...ins, body: watch(ins.body) } : ins, {
      get: (target, key, receiver) => {
        meter.read()
        return Reflect.get(target, key, receiver)
      }
    })
  return {
    ...real,
    parse: (tokens: ReadonlyArray<number>) => {
      const r = real.parse(tokens)
      return real.isParseError(r) ? r : r.map(watch)
    },
    applyUnary: (op: Parameters<typeof real.applyUnary>[0], xs: ReadonlyArray<number>) => {
      const out = real.applyUnary(op, xs)
      meter.prim(xs, out)
      return out
    },
    applyParam: (op: Parameters<typeof real.applyParam>[0], k: number, xs: ReadonlyArray<number>) => {
      const out = real.applyParam(op, k, xs)
      meter.prim(xs, out)
      return out
    }
  }
})

/** Steps a run takes if nothing aborts it (data-independent): an op 1, `rep k op` 1 + k * (1 + steps(op)). */
const staticSteps = (program: Program): number => {
  const of = (ins: Instr): number => (ins.kind === "rep" ? 1 + ins.k * (1 + of(ins.body)) : 1)
  return program.reduce((s, ins) => s + of(ins), 0)
}

/** Parses (through the metered parser) a program the test built; the program text is for messages. */
const metered = (tokens: ReadonlyArray<number>): Program => {
  const p = parse(tokens)
  if (isParseError(p)) throw new Error(`test program does not parse: ${p.reason}`)
  return p
}

/** Runs under the meter and checks every bound a run must keep; returns the result for more checks. */
const checkedRun = (program: Program, input: ReadonlyArray<number>, limits: Limits): RunResult => {
  meter.arm(Number.POSITIVE_INFINITY) // staticSteps reads the metered nodes too: not the run's reads
  const expectedSteps = staticSteps(program)
  meter.arm(READS_PER_FUEL * limits.fuel + READS_PER_FUEL)
  const r = run(program, input, limits)
  // Bounded by the fuel: what it used, the instructions it executed, the nodes it read, the work it did.
  expect(r.fuelUsed).toBeLessThanOrEqual(limits.fuel)
  expect(r.steps).toBeLessThanOrEqual(r.fuelUsed)
  expect(meter.reads).toBeLessThanOrEqual(READS_PER_FUEL * r.fuelUsed + READS_PER_FUEL)
  expect(meter.prims).toBeLessThanOrEqual(r.steps)
  expect(meter.primCharge).toBeLessThanOrEqual(r.fuelUsed)
  expect(meter.elements).toBeLessThanOrEqual(3 * r.fuelUsed) // an op's output is at most 2n + 1 long
  if (!r.ok && r.error === "fuel") {
    expect(r.fuelUsed).toBe(limits.fuel)
  } else {
    // The exact cost model: each primitive 1 + input length, each rep execution and iteration 1.
    expect(r.fuelUsed).toBe(meter.primCharge + (r.steps - meter.prims))
  }
  if (r.ok) {
    expect(r.steps).toBe(expectedSteps)
    expect(r.output.length).toBeLessThanOrEqual(limits.sizeMax)
  }
  if (expectedSteps > limits.fuel) expect(r.ok).toBe(false)
  return r
}

// ---- arbitraries: programs as chains `rep k`* op, often deeply nested, cut to a token budget ----

const digit = fc.integer({ min: 0, max: 9 })
const primitiveTokens: fc.Arbitrary<Array<number>> = fc.oneof(
  fc.constantFrom(...UNARY_OP_NAMES).map((op) => [Op[op]]),
  fc.tuple(fc.constantFrom(...PARAM_OP_NAMES.filter((n) => n !== "rep")), digit).map(([op, k]) => [Op[op], digitToken(k)])
)
const chainTokens: fc.Arbitrary<Array<number>> = fc.tuple(
  fc.oneof(fc.array(digit, { maxLength: 3 }), fc.array(digit, { maxLength: 31, size: "max" })),
  primitiveTokens
).map(([reps, op]) => [...reps.flatMap((k) => [Op.rep, digitToken(k)]), ...op])

/** Whole chains while they fit in `max` tokens (the verifier's programTokensMax). */
const fitTo = (chains: ReadonlyArray<ReadonlyArray<number>>, max: number): Array<number> => {
  const out: Array<number> = []
  for (const c of chains) if (out.length + c.length <= max) out.push(...c)
  return out
}

const LARGEST_PROGRAM = 64 // the largest programTokensMax codeConfig accepts (checked below)
const programs = (max: number): fc.Arbitrary<Array<number>> =>
  fc.array(chainTokens, { minLength: 1, maxLength: 40 }).map((cs) => fitTo(cs, max))

/** Limits anywhere in the accepted ranges (fast-check also favours their ends). */
const acceptedLimits: fc.Arbitrary<Limits> = fc.record({
  fuel: fc.integer({ min: 16, max: 1_000_000 }),
  sizeMax: fc.integer({ min: 16, max: 4096 })
})

describe("fuel: every program terminates within its fuel", () => {
  it("the accepted ranges are the ones these tests draw from", () => {
    expect(codeConfig({ programTokensMax: LARGEST_PROGRAM, limits: { fuel: 1_000_000, sizeMax: 4096 }, testsPerProblem: 32 }))
      .toMatchObject({ programTokensMax: LARGEST_PROGRAM })
    expect(() => codeConfig({ programTokensMax: LARGEST_PROGRAM + 1 })).toThrow(DomainConfigError)
    expect(() => codeConfig({ limits: { fuel: 1_000_001, sizeMax: 64 } })).toThrow(DomainConfigError)
    expect(() => codeConfig({ limits: { fuel: 400, sizeMax: 4097 } })).toThrow(DomainConfigError)
    expect(() => codeConfig({ testsPerProblem: 34 })).toThrow(DomainConfigError)
  })

  it("the program of the issue (rep 9 x30, rep 0 dup) stops on fuel at once", () => {
    const text = `${Array.from({ length: 30 }, () => "rep 9").join(" ")} rep 0 dup`
    const tokens = parseRendered(text)
    expect(tokens).toHaveLength(63) // accepted only with programTokensMax raised to 63 or 64
    const r = checkedRun(metered(tokens), [3, 1, 4, 1, 5], DEFAULT_LIMITS)
    expect(r).toMatchObject({ ok: false, error: "fuel", fuelUsed: DEFAULT_LIMITS.fuel })
    expect(meter.prims).toBe(0) // all of it was rep overhead, which used to be free
  })

  it("a nest ending in rep 0 costs its iterations (it used to return ok having used no fuel)", () => {
    const r = checkedRun(metered(parseRendered("rep 9 rep 9 rep 9 rep 9 rep 9 rep 9 rep 0 dup")), [1, 2], DEFAULT_LIMITS)
    expect(r).toMatchObject({ ok: false, error: "fuel" })
    // Small nests finish and pay 1 per rep execution and iteration: 1 + 3 * (1 + (1 + 2 * (1 + 1))) = 19.
    const small = checkedRun(metered(parseRendered("rep 3 rep 2 rep 0 dup")), [1, 2], DEFAULT_LIMITS)
    expect(small).toMatchObject({ ok: true, output: [1, 2], fuelUsed: 19, steps: 19 })
  })

  it("programs without rep cost what they always did: 1 + input length per op", () => {
    expect(checkedRun(metered(parseRendered("sort rev take 2")), [3, 1, 4, 1, 5], DEFAULT_LIMITS))
      .toMatchObject({ ok: true, output: [5, 4], fuelUsed: 6 + 6 + 6, steps: 3 })
    expect(checkedRun(metered(parseRendered("dup push 1 rev")), [7, 8], DEFAULT_LIMITS))
      .toMatchObject({ ok: true, output: [1, 8, 8, 7, 7], fuelUsed: 3 + 5 + 6 })
  })

  fcTest.prop([programs(LARGEST_PROGRAM), fc.array(digit, { maxLength: 8 }), acceptedLimits], { seed: 12, numRuns: 300 })(
    "random programs under random accepted limits return (ok or typed error) within their fuel",
    (tokens, input, limits) => {
      const r = checkedRun(metered(tokens), input, limits)
      if (!r.ok) expect(["fuel", "size", "div0"]).toContain(r.error)
    }
  )
})

describe("fuel: the code verifier gives every response a verdict within testsPerProblem x fuel", () => {
  const problems = new Map<string, CodeProblem>()
  /** One generated problem per test shape (generation uses the default limits; the verifier the drawn ones). */
  const problemFor = (testsPerProblem: number, inputLenMin: number, inputLenMax: number): CodeProblem => {
    const key = `${testsPerProblem}/${inputLenMin}/${inputLenMax}`
    let p = problems.get(key)
    if (p === undefined) {
      p = makeCodeDomain({ clusters: 1, trainPerCluster: 1, heldoutPerCluster: 0, testsPerProblem, inputLenMin, inputLenMax }, 12)
        .problems("train")[0]!
      problems.set(key, p)
    }
    return p
  }

  const checkedVerify = (config: CodeConfig, problem: CodeProblem, response: ReadonlyArray<number>, protocol: "train" | "eval") => {
    const runs = protocol === "train" ? problem.tests.length / 2 : problem.tests.length
    const budget = runs * config.limits.fuel
    meter.arm(READS_PER_FUEL * (budget + runs))
    const v = verifyCode(config, problem, response, protocol)
    expect(meter.reads).toBeLessThanOrEqual(READS_PER_FUEL * (budget + runs))
    expect(meter.primCharge).toBeLessThanOrEqual(budget)
    expect(meter.elements).toBeLessThanOrEqual(3 * budget)
    expect(v.total).toBe(runs)
    expect(v.passed).toBeLessThanOrEqual(v.total)
    expect(v.reward).toBeGreaterThanOrEqual(0)
    expect(v.reward).toBeLessThanOrEqual(1)
    if (v.error !== undefined) {
      expect(["parse", "fuel", "size", "div0", "toolong"]).toContain(v.error)
      expect(v.feedback[1]).toBe(Control.ERR)
    }
    if (!v.solved) expect(v.feedback[0]).toBe(Control.FB)
    return v
  }

  it("the program of the issue at programTokensMax=64 gets a fuel verdict at once", () => {
    const config = codeConfig({ programTokensMax: 64 })
    const problem = problemFor(config.testsPerProblem, config.inputLenMin, config.inputLenMax)
    const response = [...parseRendered(`${Array.from({ length: 30 }, () => "rep 9").join(" ")} rep 0 dup`), Control.EOS]
    const v = checkedVerify(config, problem, response, "eval")
    expect(v).toMatchObject({
      reward: 0, passed: 0, total: 8, solved: false, error: "fuel", feedback: [Control.FB, Control.ERR, ErrKind.E_FUEL, Control.END]
    })
  })

  const acceptedOptions = fc.record({
    testsPerProblem: fc.integer({ min: 1, max: 16 }).map((h) => 2 * h),
    inputLenMin: fc.integer({ min: 4, max: 8 }),
    inputLenSpan: fc.integer({ min: 0, max: 4 }),
    limits: acceptedLimits,
    programTokensMax: fc.integer({ min: 8, max: LARGEST_PROGRAM }),
    reward: fc.constantFrom("sparse" as const, "partial" as const),
    feedbackGotMax: fc.integer({ min: 1, max: 64 })
  })

  const overflow = fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, { arbitrary: fc.integer({ min: 1, max: 4 }), weight: 1 })

  fcTest.prop([acceptedOptions, fc.array(chainTokens, { minLength: 1, maxLength: 40 }), overflow,
    fc.constantFrom("train" as const, "eval" as const)], { seed: 13, numRuns: 100 })(
    "random responses under random accepted options get a typed verdict within the bound",
    ({ inputLenSpan, ...opts }, chains, overflow, protocol) => {
      const config = codeConfig({ ...opts, inputLenMax: Math.min(8, opts.inputLenMin + inputLenSpan) })
      const problem = problemFor(config.testsPerProblem, config.inputLenMin, config.inputLenMax)
      // Sometimes a few tokens past the limit, which must be refused unrun.
      const body = fitTo(chains, config.programTokensMax + overflow)
      const v = checkedVerify(config, problem, [...body, Control.EOS], protocol)
      if (body.length > config.programTokensMax) expect(v.error).toBe("toolong")
    }
  )
})

describe("fuel: options that could make a check unbounded are refused by name", () => {
  it.each([
    ["limits.fuel", { limits: { fuel: Number.POSITIVE_INFINITY, sizeMax: 64 } }],
    ["limits.fuel", { limits: { fuel: Number.NaN, sizeMax: 64 } }],
    ["limits.fuel", { limits: { fuel: 2_000_000, sizeMax: 64 } }],
    ["limits.sizeMax", { limits: { fuel: 400, sizeMax: Number.POSITIVE_INFINITY } }],
    ["limits.sizeMax", { limits: { fuel: 400 } as Limits }],
    ["limits", { limits: null as unknown as Limits }],
    ["programTokensMax", { programTokensMax: 65 }],
    ["programTokensMax", { programTokensMax: Number.POSITIVE_INFINITY }],
    ["testsPerProblem", { testsPerProblem: 1_000 }],
    ["inputLenMax", { inputLenMax: 9 }]
  ] as Array<[string, Partial<CodeConfig>]>)("%s: %o", (name, partial) => {
    expect(() => codeConfig(partial)).toThrow(DomainConfigError)
    expect(() => codeConfig(partial)).toThrow(`config.${name} `)
  })
})
