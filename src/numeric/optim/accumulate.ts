/**
 * One optimisation step over micro-batches (gradient accumulation): each micro-batch's loss and
 * gradients are computed on their own and read back (`lossGrads`: plain arrays, so a micro-batch can be
 * computed on another thread or process), then summed in micro-batch order and applied as one step
 * (`applyGrads`: global-norm clipping and AdamW exactly as trainStep.ts).
 *
 * Deterministic: the sum runs in the order of `parts`, whoever computed each part. It is not the
 * bits of one trainStep over the whole batch (the sums run in another order), which is why it is a
 * separate, opt-in path (the policy's `optim.microBatches`), and why one micro-batch never comes here.
 */
import { NumericInputError } from "../errors.ts"
import type { Params } from "../model/params.ts"
import { tf } from "../tf.ts"
import { type AdamState, adamApply, defaultAdam } from "./adam.ts"
import { hostTidy } from "../read.ts"
import { releasingTape } from "./releasingTape.ts"
import { learningRate } from "./schedule.ts"
import type { TrainOptions, TrainStepResult } from "./trainStep.ts"

/** One micro-batch's loss and each parameter's gradient, by parameter name, read back to the host. */
export interface HostGrads {
  readonly loss: number
  readonly grads: ReadonlyArray<{ readonly name: string; readonly values: Float32Array }>
}

/** The loss and gradients of `lossFn` (a micro-batch's share of the whole loss) with respect to `params`. */
export const lossGrads = (params: Params, lossFn: () => tf.Scalar): HostGrads => {
  const nameOf = new Map(Object.entries(params).map(([n, v]) => [v.name, n]))
  // hostTidy, not tf.tidy's return value: tidy walks what it returns element by element, typed arrays
  // included (~50 ms a pass for the default model's gradients; src/numeric/read.ts)
  return hostTidy(() => {
    const { value, grads } = releasingTape(() => tf.variableGrads(lossFn, Object.values(params)))
    if (value.rank !== 0) throw new NumericInputError("lossGrads", `loss must be a scalar, got shape [${value.shape}]`)
    const byName = new Map<string, Float32Array>()
    for (const [vn, g] of Object.entries(grads)) {
      const n = nameOf.get(vn)
      if (n !== undefined) byName.set(n, g.dataSync().slice() as Float32Array)
    }
    // in params order, so that every part lists its gradients alike
    return { loss: value.dataSync()[0]!, grads: Object.keys(params).flatMap((n) => (byName.has(n) ? [{ name: n, values: byName.get(n)! }] : [])) }
  })
}

/** Sums the parts' gradients in order and applies one clipped AdamW step; a non-finite step changes nothing. */
export const applyGrads = (params: Params, state: AdamState, parts: ReadonlyArray<HostGrads>, opts: TrainOptions): TrainStepResult => {
  if (parts.length === 0) throw new NumericInputError("applyGrads", "no gradients to apply")
  const lr = learningRate(opts.schedule, state.step + 1)
  const loss = parts.reduce((a, p) => a + p.loss, 0)
  return tf.tidy(() => {
    const byName: Record<string, tf.Tensor> = {}
    for (const { name, values } of parts[0]!.grads) {
      const v = params[name]
      if (v === undefined) throw new NumericInputError("applyGrads", `no parameter ${name}`)
      let sum: tf.Tensor = tf.tensor(values, v.shape, "float32")
      for (const part of parts.slice(1)) {
        const g = part.grads.find((x) => x.name === name)
        if (g === undefined || g.values.length !== values.length) throw new NumericInputError("applyGrads", `a part lacks the gradient of ${name}`)
        sum = sum.add(tf.tensor(g.values, v.shape, "float32"))
      }
      byName[name] = sum
    }
    const norms = Object.values(byName).map((g) => g.square().sum() as tf.Scalar)
    const gradNorm = Math.sqrt((norms.length === 0 ? tf.scalar(0) : tf.addN(norms)).dataSync()[0]!)
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) return { loss, gradNorm, lr, step: state.step, skipped: true }
    const clipScale = opts.clipNorm !== undefined && gradNorm > opts.clipNorm ? opts.clipNorm / (gradNorm + 1e-6) : undefined
    adamApply(params, state, byName, lr, opts.adam ?? defaultAdam, clipScale)
    return { loss, gradNorm, lr, step: state.step, skipped: false }
  })
}
