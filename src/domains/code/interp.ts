/**
 * The sandboxed interpreter of the list DSL: runs a parsed program on one input with fuel and size limits.
 *
 * Guarantees: total (returns a value or a typed runtime error, never throws on any program), bounded
 * (every executed instruction costs fuel, see below, and the run stops when fuel runs out; no list may grow
 * past `sizeMax`), and pure (same program and input, same result).
 *
 * Cost model (fuel is charged before the work it pays for; a run whose fuel would go negative stops with
 * error "fuel"):
 *   primitive op (unary or `take k`, `add k`, ...)   1 + length of its input list
 *   `rep k op`                                       1 each time it is executed (also for k = 0),
 *                                                    plus 1 per iteration, plus the cost of `op` per iteration
 * Every step the interpreter takes (an op application, entering a `rep`, one `rep` iteration) therefore
 * costs at least 1, so a run takes at most `fuel` steps whatever the nesting (`rep 9` x30 then `rep 0 dup`
 * used to cost nothing and loop ~9^30 times). The work of one op is linear in its input (sort: n log n)
 * and its output is at most 2n + 1 long, so the work of a run is O(fuel * log sizeMax).
 * Primitive ops kept the cost they always had, so programs without `rep` use exactly the fuel they used to.
 */
import { applyParam, applyUnary, type Instr, type Program } from "./dsl.ts"

export interface Limits {
  /** Step budget per run (cost model above): an op costs 1 + its input length, `rep` 1 + 1 per iteration. */
  readonly fuel: number
  /** Longest list any intermediate value may have. */
  readonly sizeMax: number
}

export const DEFAULT_LIMITS: Limits = { fuel: 400, sizeMax: 64 }

export type RunError = "fuel" | "size" | "div0"

/** `fuelUsed` <= limits.fuel always; `steps` (instructions executed, rep iterations included) <= fuelUsed. */
export type RunResult =
  | { readonly ok: true; readonly output: ReadonlyArray<number>; readonly fuelUsed: number; readonly steps: number }
  | { readonly ok: false; readonly error: RunError; readonly fuelUsed: number; readonly steps: number }

class Abort {
  readonly error: RunError
  constructor(error: RunError) {
    this.error = error
  }
}

/** Runs `program` on `input` under `limits`. */
export const run = (program: Program, input: ReadonlyArray<number>, limits: Limits = DEFAULT_LIMITS): RunResult => {
  let fuel = limits.fuel
  let steps = 0
  // Pays for one step of `cost` (>= 1) before it is taken; the step is counted only if it could be paid.
  // Written so that a NaN budget stops at once instead of never (codeConfig rejects such limits anyway).
  const charge = (cost: number): void => {
    if (!(fuel >= cost)) {
      fuel = 0
      throw new Abort("fuel")
    }
    fuel -= cost
    steps++
  }
  const step = (ins: Instr, xs: ReadonlyArray<number>): ReadonlyArray<number> => {
    if (ins.kind === "rep") {
      charge(1)
      let cur = xs
      for (let j = 0; j < ins.k; j++) {
        charge(1)
        cur = step(ins.body, cur)
      }
      return cur
    }
    charge(1 + xs.length)
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
    if (e instanceof Abort) return { ok: false, error: e.error, fuelUsed: limits.fuel - fuel, steps }
    throw e
  }
  return { ok: true, output: cur, fuelUsed: limits.fuel - fuel, steps }
}
