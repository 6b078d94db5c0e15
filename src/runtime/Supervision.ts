/**
 * Restart policy of a supervised actor: a restart budget over a sliding window of Clock time, and an
 * exponential back-off between restarts. Pure functions over millisecond timestamps read from
 * Effect's Clock, so tests drive them with TestClock and wall time never changes a result.
 */
import { Duration, Option } from "effect"

export interface SupervisionPolicy {
  /** Restarts allowed within `within`; one more is fatal (`RestartBudgetExhausted`). */
  readonly maxRestarts: number
  /** Width of the sliding window the budget counts restarts in. */
  readonly within: Duration.Input
  /** Back-off before the first restart of a crash streak; doubles per consecutive crash. */
  readonly backoff: Duration.Input
  /** Upper bound of the back-off. */
  readonly maxBackoff: Duration.Input
}

export const defaultPolicy: SupervisionPolicy = {
  maxRestarts: 3,
  within: "1 minute",
  backoff: "10 millis",
  maxBackoff: "1 second"
}

/** Throws RangeError unless `input` is a valid, non-negative duration. */
export const checkDuration = (what: string, input: Duration.Input): void => {
  const d = Duration.fromInput(input)
  if (Option.isNone(d) || Duration.toMillis(d.value) < 0) {
    throw new RangeError(`${what}: not a valid duration: ${JSON.stringify(input)}`)
  }
}

/** Resolves a partial policy against the defaults and checks it. Throws RangeError on nonsense. */
export const resolvePolicy = (p: Partial<SupervisionPolicy> | undefined): SupervisionPolicy => {
  const policy = { ...defaultPolicy, ...p }
  if (!Number.isInteger(policy.maxRestarts) || policy.maxRestarts < 0) {
    throw new RangeError(`supervision: maxRestarts must be a non-negative integer, got ${policy.maxRestarts}`)
  }
  for (const key of ["within", "backoff", "maxBackoff"] as const) checkDuration(`supervision.${key}`, policy[key])
  return policy
}

/** Restart timestamps still inside the window ending at `now`, plus `now` itself. */
export const recordRestart = (
  history: ReadonlyArray<number>,
  now: number,
  policy: SupervisionPolicy
): Array<number> => {
  const windowMillis = Duration.toMillis(Duration.fromInputUnsafe(policy.within))
  return [...history.filter((t) => now - t < windowMillis), now]
}

/** True when the restarts in the window exceed the budget. */
export const exhausted = (windowed: ReadonlyArray<number>, policy: SupervisionPolicy): boolean =>
  windowed.length > policy.maxRestarts

/** Back-off before restart number `streak` (1-based) of a consecutive crash streak, in millis. */
export const backoffMillis = (streak: number, policy: SupervisionPolicy): number => {
  const base = Duration.toMillis(Duration.fromInputUnsafe(policy.backoff))
  const cap = Duration.toMillis(Duration.fromInputUnsafe(policy.maxBackoff))
  return Math.min(cap, base * 2 ** Math.max(0, streak - 1))
}
