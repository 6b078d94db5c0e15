/**
 * Adam / AdamW with explicit, serialisable state.
 *
 * State = { step, m, v }: first and second moments as variables in the params' order, plus the number
 * of updates taken. `exportAdamState` / `importAdamState` copy it to and from Float32Arrays, so a
 * checkpoint resumes the optimiser bit-identically.
 *
 * Update (decoupled weight decay, Loshchilov & Hutter), for step t and learning rate lr:
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *   p = p - lr * ( m / (1 - b1^t) / (sqrt(v / (1 - b2^t)) + eps) + wd * p )     (wd only where decay)
 */
import { NumericInputError } from "../errors.ts"
import { type Params, newVariable } from "../model/params.ts"
import { tf } from "../tf.ts"

export interface AdamConfig {
  readonly beta1: number
  readonly beta2: number
  readonly eps: number
  /** Decoupled weight decay (AdamW); 0 = plain Adam. */
  readonly weightDecay: number
}

export const defaultAdam: AdamConfig = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }

export interface AdamState {
  step: number
  readonly m: Readonly<Record<string, tf.Variable>>
  readonly v: Readonly<Record<string, tf.Variable>>
  /** Names that get weight decay. Default: matrices (rank >= 2) except embedding tables. */
  readonly decay: ReadonlySet<string>
}

/** Plain copy of an AdamState, in params order. */
export interface AdamStateData {
  readonly step: number
  readonly names: ReadonlyArray<string>
  readonly m: ReadonlyArray<Float32Array>
  readonly v: ReadonlyArray<Float32Array>
  readonly decay: ReadonlyArray<string>
}

export const defaultDecaySet = (params: Params): ReadonlySet<string> =>
  new Set(Object.entries(params).filter(([n, p]) => p.rank >= 2 && !n.endsWith("Emb")).map(([n]) => n))

const zerosLike = (params: Params): Record<string, tf.Variable> => {
  const out: Record<string, tf.Variable> = {}
  for (const [n, p] of Object.entries(params)) out[n] = newVariable(new Float32Array(p.size), p.shape, false)
  return out
}

export const createAdamState = (params: Params, decay: ReadonlySet<string> = defaultDecaySet(params)): AdamState => ({
  step: 0,
  m: zerosLike(params),
  v: zerosLike(params),
  decay
})

export const disposeAdamState = (s: AdamState): void => {
  for (const x of Object.values(s.m)) x.dispose()
  for (const x of Object.values(s.v)) x.dispose()
}

export const exportAdamState = (s: AdamState): AdamStateData => {
  const names = Object.keys(s.m)
  return {
    step: s.step,
    names,
    m: names.map((n) => s.m[n]!.dataSync().slice() as Float32Array),
    v: names.map((n) => s.v[n]!.dataSync().slice() as Float32Array),
    decay: [...s.decay].sort()
  }
}

/** Fresh state variables for `params`, filled from `data` (names and sizes must match). */
export const importAdamState = (params: Params, data: AdamStateData): AdamState => {
  const names = Object.keys(params)
  if (data.names.length !== names.length || data.names.some((n, i) => n !== names[i])) {
    throw new NumericInputError("importAdamState", "parameter names differ from the model's")
  }
  const mk = (arrs: ReadonlyArray<Float32Array>): Record<string, tf.Variable> => {
    const out: Record<string, tf.Variable> = {}
    names.forEach((n, i) => {
      const p = params[n]!
      const a = arrs[i]
      if (a === undefined || a.length !== p.size) throw new NumericInputError("importAdamState", `${n}: wrong size`)
      out[n] = newVariable(a, p.shape, false)
    })
    return out
  }
  return { step: data.step, m: mk(data.m), v: mk(data.v), decay: new Set(data.decay) }
}

/**
 * One update of every parameter from `grads` (already clipped), at learning rate `lr`. Increments
 * state.step. Missing gradients count as zero.
 */
export const adamApply = (params: Params, state: AdamState, grads: Readonly<Record<string, tf.Tensor>>, lr: number, cfg: AdamConfig): void => {
  const t = state.step + 1
  const bc1 = 1 - Math.pow(cfg.beta1, t)
  const bc2 = 1 - Math.pow(cfg.beta2, t)
  tf.tidy(() => {
    for (const [name, p] of Object.entries(params)) {
      const m = state.m[name]!
      const v = state.v[name]!
      const g = grads[name] ?? tf.zerosLike(p)
      const m1 = m.mul(cfg.beta1).add(g.mul(1 - cfg.beta1))
      const v1 = v.mul(cfg.beta2).add(g.square().mul(1 - cfg.beta2))
      // lr folded into the bias corrections: step = (lr / bc1) * m / (sqrt(v / bc2) + eps)
      let upd = m1.mul(lr / bc1).div(v1.div(bc2).sqrt().add(cfg.eps))
      if (cfg.weightDecay > 0 && state.decay.has(name)) upd = upd.add(p.mul(lr * cfg.weightDecay))
      m.assign(m1)
      v.assign(v1)
      p.assign(p.sub(upd))
    }
  })
  state.step = t
}
