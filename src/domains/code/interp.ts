/**
 * The sandboxed interpreter of the list DSL: runs a parsed program on one input with fuel and size limits.
 *
 * Guarantees: total (returns a value or a typed runtime error, never throws on any program), bounded
 * (each primitive application costs 1 + the input length in fuel and the run stops when fuel runs out;
 * no list may grow past `sizeMax`), and pure (same program and input, same result).
 */
import { applyParam, applyUnary, type Instr, type Program } from "./dsl.ts"

export interface Limits {
  /** Step budget per run: each primitive op application costs 1 + length of its input list. */
  readonly fuel: number
  /** Longest list any intermediate value may have. */
  readonly sizeMax: number
}

export const DEFAULT_LIMITS: Limits = { fuel: 400, sizeMax: 64 }

export type RunResult =
  | { readonly ok: true; readonly output: ReadonlyArray<number>; readonly fuelUsed: number }
  | { readonly ok: false; readonly error: "fuel" | "size" | "div0"; readonly fuelUsed: number }

class Abort {
  readonly error: "fuel" | "size" | "div0"
  constructor(error: "fuel" | "size" | "div0") {
    this.error = error
  }
}

/** Runs `program` on `input` under `limits`. */
export const run = (program: Program, input: ReadonlyArray<number>, limits: Limits = DEFAULT_LIMITS): RunResult => {
  let fuel = limits.fuel
  const step = (ins: Instr, xs: ReadonlyArray<number>): ReadonlyArray<number> => {
    if (ins.kind === "rep") {
      let cur = xs
      for (let j = 0; j < ins.k; j++) cur = step(ins.body, cur)
      return cur
    }
    fuel -= 1 + xs.length
    if (fuel < 0) throw new Abort("fuel")
    const out = ins.kind === "unary" ? applyUnary(ins.op, xs) : applyParam(ins.op, ins.k, xs)
    if (out === undefined) throw new Abort("div0")
    if (out.length > limits.sizeMax) throw new Abort("size")
    return out
  }
  let cur: ReadonlyArray<number> = input
  try {
    for (const ins of program) cur = step(ins, cur)
  } catch (e) {
    // Only our own aborts are expected here; anything else is an interpreter bug and must surface.
    if (e instanceof Abort) return { ok: false, error: e.error, fuelUsed: limits.fuel - Math.max(fuel, 0) }
    throw e
  }
  return { ok: true, output: cur, fuelUsed: limits.fuel - fuel }
}
