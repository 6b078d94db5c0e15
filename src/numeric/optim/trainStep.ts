/**
 * One optimisation step: gradients of a scalar loss, global-norm clipping, AdamW, LR schedule.
 *
 * Deterministic on a deterministic backend: the same params, state and loss give bit-identical
 * results. The loss and gradient norm are read back to JS (one sync per step). A step whose loss or
 * gradient norm is not finite changes nothing and is reported as `skipped`. The backward pass frees what
 * it has read as it goes (releasingTape.ts: the same bits, a much lower memory high-water mark).
 */
import { NumericInputError } from "../errors.ts"
import type { Params } from "../model/params.ts"
import { tf } from "../tf.ts"
import { releasingTape } from "./releasingTape.ts"
import { type AdamConfig, type AdamState, adamApply, defaultAdam } from "./adam.ts"
import { type LrSchedule, learningRate } from "./schedule.ts"

export interface TrainOptions {
  readonly schedule: LrSchedule
  readonly adam?: AdamConfig
  /** Clip the global L2 norm of all gradients to this value (undefined = no clipping). */
  readonly clipNorm?: number
}

export interface TrainStepResult {
  readonly loss: number
  /** Global gradient norm before clipping. */
  readonly gradNorm: number
  readonly lr: number
  /** Optimiser step number after this call. */
  readonly step: number
  readonly skipped: boolean
}

export const trainStep = (params: Params, state: AdamState, lossFn: () => tf.Scalar, opts: TrainOptions): TrainStepResult => {
  const vars = Object.values(params)
  const nameOf = new Map(Object.entries(params).map(([n, v]) => [v.name, n]))
  const lr = learningRate(opts.schedule, state.step + 1)
  return tf.tidy(() => {
    const { value, grads } = releasingTape(() => tf.variableGrads(lossFn, vars))
    if (value.rank !== 0) throw new NumericInputError("trainStep", `loss must be a scalar, got shape [${value.shape}]`)
    const byName: Record<string, tf.Tensor> = {}
    const sq: Array<tf.Scalar> = []
    for (const [vn, g] of Object.entries(grads)) {
      const n = nameOf.get(vn)
      if (n === undefined) continue
      byName[n] = g
      sq.push(g.square().sum())
    }
    const normSq = sq.length === 0 ? tf.scalar(0) : tf.addN(sq)
    const both = tf.stack([value, normSq]).dataSync() // one read-back: [loss, |g|^2]
    const loss = both[0]!
    const gradNorm = Math.sqrt(both[1]!)
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
      return { loss, gradNorm, lr, step: state.step, skipped: true }
    }
    // clipping: every gradient times this scale, inside the update
    const clipScale = opts.clipNorm !== undefined && gradNorm > opts.clipNorm ? opts.clipNorm / (gradNorm + 1e-6) : undefined
    adamApply(params, state, byName, lr, opts.adam ?? defaultAdam, clipScale)
    return { loss, gradNorm, lr, step: state.step, skipped: false }
  })
}
