/**
 * Seeded fault injection for the verifier pool (tests and experiments).
 *
 * The fault of a check is a pure function of (plan, rolloutId, attempt): one draw from the Rng stream
 * `(plan.seed, "verifier", "fault", rolloutId, attempt)`. It never depends on which worker runs the check,
 * on timing or on the batch, so a fault schedule replays exactly and 1 or N workers see the same faults.
 *
 * Faults are transient by default: the last allowed attempt always runs clean, so every check ends in
 * the same verdict as without faults (only retries and timings differ). `persistent: true` lets faults
 * hit every attempt, which is how tests reach the typed `VerifyFailed` outcome.
 */
import { Rng, type KeyPart } from "../../src/core/Rng.ts"
import type { Fault } from "./protocol.ts"

export interface FaultPlan {
  readonly seed: KeyPart
  /** Per-attempt probabilities; their sum must be <= 1. */
  readonly crash: number
  readonly hang: number
  readonly slow: number
  readonly flaky: number
  /** Real-time delay of a "slow" check; keep it well under the pool's time-out. */
  readonly slowMillis: number
  readonly persistent?: boolean
}

export const noFaults: FaultPlan = { seed: 0, crash: 0, hang: 0, slow: 0, flaky: 0, slowMillis: 0 }

/** A plan that is out of range (negative or > 1 probabilities, a negative delay). */
export class InvalidFaultPlan extends Error {
  readonly _tag = "InvalidFaultPlan"
}

export const validateFaultPlan = (plan: FaultPlan): FaultPlan => {
  const ps = [plan.crash, plan.hang, plan.slow, plan.flaky]
  if (ps.some((p) => !(p >= 0 && p <= 1)) || ps.reduce((a, b) => a + b, 0) > 1 + 1e-12) {
    throw new InvalidFaultPlan(`fault probabilities must be in [0, 1] and sum to <= 1, got ${ps.join(", ")}`)
  }
  if (!(Number.isInteger(plan.slowMillis) && plan.slowMillis >= 0)) {
    throw new InvalidFaultPlan(`slowMillis must be a non-negative integer, got ${plan.slowMillis}`)
  }
  return plan
}

/** The fault injected into attempt `attempt` (0-based) of the check of `rolloutId`. */
export const drawFault = (plan: FaultPlan, rolloutId: string, attempt: number, attemptsMax: number): Fault => {
  if (plan.persistent !== true && attempt >= attemptsMax - 1) return "none"
  const total = plan.crash + plan.hang + plan.slow + plan.flaky
  if (total === 0) return "none"
  let u = Rng.root(plan.seed).fork("verifier", "fault", rolloutId, attempt).float()
  if ((u -= plan.crash) < 0) return "crash"
  if ((u -= plan.hang) < 0) return "hang"
  if ((u -= plan.slow) < 0) return "slow"
  if ((u -= plan.flaky) < 0) return "flaky"
  return "none"
}
