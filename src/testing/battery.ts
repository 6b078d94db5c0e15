/**
 * The machinery of the invariant batteries: a battery is one fast-check property whose body checks
 * named invariants in a fixed order and throws `Broken` at the first one that fails. fast-check shrinks
 * the failing input; the battery then throws an `InvariantViolation` whose message names the plug-in,
 * the invariant, what was wrong, the shrunk counterexample and how to replay it. It is a plain Error,
 * so it fails a vitest test, a node:test test or a script alike.
 */
import * as fc from "fast-check"
import { PluginContractError } from "../plugins/apply.ts"
import { clip } from "./render.ts"

/** Thrown inside a property: which invariant failed, and how. */
export class Broken extends Error {
  readonly _tag = "Broken"
  readonly invariant: string
  readonly detail: string
  constructor(invariant: string, detail: string) {
    super(`invariant "${invariant}" fails: ${detail}`)
    this.invariant = invariant
    this.detail = detail
  }
}

/** Fails invariant `name` with `detail` unless `ok`. */
export const holds = (ok: boolean, name: string, detail: () => string): void => {
  if (!ok) throw new Broken(name, detail())
}

export interface BatteryOptions {
  /** Cases to try (default per battery). */
  readonly numRuns?: number
  /** fast-check seed (default 1: a battery explores the same cases on every run; change it to explore others). */
  readonly seed?: number
  /** Replay one failing case: the `path` an InvariantViolation printed (with its seed). */
  readonly path?: string
}

/** A battery found a case that breaks an invariant (the case is shrunk). */
export class InvariantViolation extends Error {
  readonly _tag = "InvariantViolation"
  readonly battery: string
  readonly subject: string
  readonly invariant: string
  readonly detail: string
  /** The shrunk failing case, rendered. */
  readonly counterexample: string
  readonly replay: { readonly seed: number; readonly path: string }
  readonly numShrinks: number
  constructor(f: Omit<InvariantViolation, keyof Error | "_tag">) {
    super(`${f.battery}(${JSON.stringify(f.subject)}): invariant "${f.invariant}" fails: ${f.detail}\n` +
      `counterexample (shrunk ${f.numShrinks} time${f.numShrinks === 1 ? "" : "s"}):\n${f.counterexample}\n` +
      `replay: ${f.battery}(plugin, { seed: ${f.replay.seed}, path: ${JSON.stringify(f.replay.path)} })`)
    this.name = "InvariantViolation"
    this.battery = f.battery
    this.subject = f.subject
    this.invariant = f.invariant
    this.detail = f.detail
    this.counterexample = f.counterexample
    this.replay = f.replay
    this.numShrinks = f.numShrinks
  }
}

/** What a passing battery checked. */
export interface BatteryReport {
  readonly battery: string
  readonly subject: string
  readonly numRuns: number
  readonly seed: number
  /** The invariants, in the order they are checked. */
  readonly invariants: ReadonlyArray<string>
}

/**
 * Runs `check` on `numRuns` cases of `arb`; throws InvariantViolation with the shrunk case rendered by
 * `render` when an invariant (or the plug-in itself: an exception counts as a failure) breaks.
 */
export const runBattery = <T>(
  battery: string, subject: string, invariants: ReadonlyArray<string>, arb: fc.Arbitrary<T>, check: (value: T) => void,
  render: (value: T) => string, defaultRuns: number, opts: BatteryOptions = {}
): BatteryReport => {
  const seed = opts.seed ?? 1
  const details = fc.check(fc.property(arb, (v) => { check(v) }), { numRuns: opts.numRuns ?? defaultRuns, seed, ...(opts.path === undefined ? {} : { path: opts.path }) })
  if (!details.failed) return { battery, subject, numRuns: details.numRuns, seed, invariants }
  if (details.counterexample === null) throw new Error(`${battery}(${JSON.stringify(subject)}): fast-check gave up (${details.interrupted ? "interrupted" : "too many skipped cases"})`)
  const e = details.errorInstance
  const [invariant, detail] = e instanceof Broken ? [e.invariant, e.detail]
    : e instanceof PluginContractError ? [e.invariant, e.message]
    : ["does not throw", `the plug-in threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`]
  throw new InvariantViolation({
    battery, subject, invariant, detail, counterexample: clip(render(details.counterexample[0])),
    replay: { seed: details.seed, path: details.counterexamplePath ?? "" }, numShrinks: details.numShrinks
  })
}
