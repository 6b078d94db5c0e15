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
import { adamUpdateOf } from "../wasm/adamKernels.ts"

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
 * The new p, m and v of one parameter, as a chain of tfjs ops (g: its gradient, already clipped;
 * kd: lr * weightDecay when it decays). On the wasm backend `adamApply` computes the same bits in one
 * kernel (wasm/adamKernels.ts); tests compare the two.
 */
export const adamStepOps = (
  p: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  g: tf.Tensor,
  cfg: AdamConfig,
  lrOverBc1: number,
  bc2: number,
  kd: number | undefined
): { p: tf.Tensor; m: tf.Tensor; v: tf.Tensor } => {
  const m1 = m.mul(cfg.beta1).add(g.mul(1 - cfg.beta1))
  const v1 = v.mul(cfg.beta2).add(g.square().mul(1 - cfg.beta2))
  // lr folded into the bias corrections: step = (lr / bc1) * m / (sqrt(v / bc2) + eps)
  let upd = m1.mul(lrOverBc1).div(v1.div(bc2).sqrt().add(cfg.eps))
  if (kd !== undefined) upd = upd.add(p.mul(kd))
  return { p: p.sub(upd), m: m1, v: v1 }
}

/**
 * One update of every parameter from `grads`, at learning rate `lr`, each gradient first multiplied
 * by `clipScale` when it is given (global-norm clipping). Increments state.step. Missing gradients
 * count as zero. On the wasm backend each parameter's update runs in one kernel
 * (wasm/adamKernels.ts: the same bits as `adamStepOps`, in one launch instead of about 14).
 */
export const adamApply = (
  params: Params,
  state: AdamState,
  grads: Readonly<Record<string, tf.Tensor>>,
  lr: number,
  cfg: AdamConfig,
  clipScale?: number
): void => {
  const t = state.step + 1
  const bc1 = 1 - Math.pow(cfg.beta1, t)
  const bc2 = 1 - Math.pow(cfg.beta2, t)
  tf.tidy(() => {
    for (const [name, p] of Object.entries(params)) {
      const m = state.m[name]!
      const v = state.v[name]!
      const kd = cfg.weightDecay > 0 && state.decay.has(name) ? lr * cfg.weightDecay : undefined
      const g = grads[name]
      let next: { p: tf.Tensor; m: tf.Tensor; v: tf.Tensor }
      if (tf.getBackend() === "wasm") {
        // a missing gradient is zeros, which the clipping scale leaves as they are
        const c = { scale: clipScale ?? 1, beta1: cfg.beta1, beta2: cfg.beta2, eps: cfg.eps, lrOverBc1: lr / bc1, bc2, lrDecay: kd }
        next = adamUpdateOf(p, m, v, g, c)
      } else {
        const gc = g === undefined ? tf.zerosLike(p) : clipScale === undefined ? g : g.mul(clipScale)
        next = adamStepOps(p, m, v, gc, cfg, lr / bc1, bc2, kd)
      }
      m.assign(next.m)
      v.assign(next.v)
      p.assign(next.p)
    }
  })
  state.step = t
}
