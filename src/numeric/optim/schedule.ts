/**
 * Learning-rate schedules: linear warm-up, then constant or cosine decay. Pure functions of the step
 * (1-based, the step being taken), so a resumed run gets exactly the same rates.
 */
import { NumericInputError } from "../errors.ts"

export interface LrSchedule {
  readonly lr: number
  /** Steps of linear warm-up from lr/warmupSteps to lr (0 = none). */
  readonly warmupSteps: number
  /** "constant" after warm-up, or cosine from lr down to minLr at totalSteps. */
  readonly decay: "constant" | "cosine"
  readonly totalSteps?: number
  readonly minLr?: number
}

export const learningRate = (s: LrSchedule, step: number): number => {
  if (!(step >= 1)) throw new NumericInputError("learningRate", `step must be >= 1, got ${step}`)
  if (s.warmupSteps > 0 && step <= s.warmupSteps) return (s.lr * step) / s.warmupSteps
  if (s.decay === "constant") return s.lr
  const total = s.totalSteps
  if (total === undefined || total <= s.warmupSteps) throw new NumericInputError("learningRate", "cosine decay needs totalSteps > warmupSteps")
  const minLr = s.minLr ?? 0
  const t = Math.min(1, (step - s.warmupSteps) / (total - s.warmupSteps))
  return minLr + 0.5 * (s.lr - minLr) * (1 + Math.cos(Math.PI * t))
}
