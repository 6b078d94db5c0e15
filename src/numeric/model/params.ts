/**
 * Model parameters: a named, ordered record of tf.Variables, and their plain-data views.
 *
 * Guarantees:
 * - `paramSpecs(cfg)` fixes the names, shapes and order of every parameter; every iteration over
 *   params (hashing, checkpoints, optimiser state) follows that order.
 * - `initParams` is a pure function of (cfg, rng key): each parameter draws from its own stream
 *   `rng.fork("param", name)`, so adding a parameter never shifts another's values.
 * - `getWeights`/`setWeights` copy through Float32Arrays: the caller owns what it gets.
 */
import { Rng } from "../../core/Rng.ts"
import { sha256Hex } from "../../core/Hash.ts"
import { NumericInputError } from "../errors.ts"
import { tf } from "../tf.ts"
import { type ModelConfig, validateConfig } from "./config.ts"

/** How a parameter starts: N(0, std²) draws, or a constant. */
export type ParamInit = { readonly kind: "normal"; readonly std: number } | { readonly kind: "const"; readonly value: number }

export interface ParamSpec {
  readonly name: string
  readonly shape: ReadonlyArray<number>
  readonly init: ParamInit
  /** Whether AdamW's decoupled weight decay applies (matrices yes; biases, LN gains, embeddings no). */
  readonly decay: boolean
}

/** Params in paramSpecs order. Values are trainable tf.Variables. */
export type Params = Readonly<Record<string, tf.Variable>>

/** Plain copy of the params, in paramSpecs order. */
export type Weights = ReadonlyArray<{ readonly name: string; readonly shape: ReadonlyArray<number>; readonly values: Float32Array }>

const normal = (std: number): ParamInit => ({ kind: "normal", std })
const ones: ParamInit = { kind: "const", value: 1 }
const zeros: ParamInit = { kind: "const", value: 0 }

/** Parameter names per layer are `l{i}.{part}`; the order below is the canonical one. */
export const paramSpecs = (cfg: ModelConfig): ReadonlyArray<ParamSpec> => {
  validateConfig(cfg)
  const { vocabSize: V, contextLength: C, dModel: d, nLayers: L, dMlp: m } = cfg
  // GPT-2 style: N(0, 0.02), residual-output projections scaled by 1/sqrt(2L)
  const std = 0.02
  const resid = std / Math.sqrt(2 * L)
  const specs: Array<ParamSpec> = [
    { name: "tokEmb", shape: [V, d], init: normal(std), decay: false },
    { name: "posEmb", shape: [C, d], init: normal(std / 2), decay: false }
  ]
  for (let i = 0; i < L; i++) {
    const p = `l${i}.`
    specs.push(
      { name: `${p}ln1.g`, shape: [d], init: ones, decay: false },
      { name: `${p}ln1.b`, shape: [d], init: zeros, decay: false },
      { name: `${p}attn.wqkv`, shape: [d, 3 * d], init: normal(std), decay: true },
      { name: `${p}attn.bqkv`, shape: [3 * d], init: zeros, decay: false },
      { name: `${p}attn.wo`, shape: [d, d], init: normal(resid), decay: true },
      { name: `${p}attn.bo`, shape: [d], init: zeros, decay: false },
      { name: `${p}ln2.g`, shape: [d], init: ones, decay: false },
      { name: `${p}ln2.b`, shape: [d], init: zeros, decay: false },
      { name: `${p}mlp.w1`, shape: [d, m], init: normal(std), decay: true },
      { name: `${p}mlp.b1`, shape: [m], init: zeros, decay: false },
      { name: `${p}mlp.w2`, shape: [m, d], init: normal(resid), decay: true },
      { name: `${p}mlp.b2`, shape: [d], init: zeros, decay: false }
    )
  }
  specs.push(
    { name: "lnf.g", shape: [d], init: ones, decay: false },
    { name: "lnf.b", shape: [d], init: zeros, decay: false },
    { name: "head.w", shape: [d, V], init: normal(std), decay: true },
    { name: "head.b", shape: [V], init: zeros, decay: false }
  )
  return specs
}

/**
 * A variable holding a copy of `values`. tf.variable keeps its own reference to the initial tensor's
 * data, so the temporary is disposed here (otherwise every call would leak one tensor).
 */
export const newVariable = (values: Float32Array, shape: ReadonlyArray<number>, trainable: boolean): tf.Variable => {
  const t = tf.tensor(values, [...shape], "float32")
  const v = tf.variable(t, trainable, undefined, "float32")
  t.dispose()
  return v
}

const sizeOf = (shape: ReadonlyArray<number>): number => shape.reduce((a, b) => a * b, 1)

const initValues = (spec: ParamSpec, rng: Rng): Float32Array => {
  const out = new Float32Array(sizeOf(spec.shape))
  if (spec.init.kind === "const") return out.fill(spec.init.value)
  const s = rng.fork("param", spec.name)
  for (let i = 0; i < out.length; i++) out[i] = s.normal() * spec.init.std
  return out
}

/** Fresh variables from the seeded stream `rng` (its position is not used or advanced). */
export const initParams = (cfg: ModelConfig, rng: Rng): Params => {
  const out: Record<string, tf.Variable> = {}
  for (const spec of paramSpecs(cfg)) {
    out[spec.name] = newVariable(initValues(spec, rng), spec.shape, true)
  }
  return out
}

/** Releases every variable. The params must not be used afterwards. */
export const disposeParams = (params: Params): void => {
  for (const v of Object.values(params)) v.dispose()
}

/** Independent variables with the same values (e.g. a frozen or EMA teacher). */
export const cloneParams = (params: Params): Params => {
  const out: Record<string, tf.Variable> = {}
  for (const [name, v] of Object.entries(params)) out[name] = tf.variable(v, true, undefined, "float32")
  return out
}

export const paramCount = (params: Params): number => Object.values(params).reduce((n, v) => n + v.size, 0)

/** Parameter count of a config, without building it. */
export const configParamCount = (cfg: ModelConfig): number => paramSpecs(cfg).reduce((n, s) => n + sizeOf(s.shape), 0)

/** A copy of every parameter's values, in params order. */
export const getWeights = (params: Params): Weights =>
  Object.entries(params).map(([name, v]) => ({ name, shape: [...v.shape], values: v.dataSync().slice() as Float32Array }))

/** Overwrites the variables' values; names and shapes must match exactly. */
export const setWeights = (params: Params, weights: Weights): void => {
  const names = Object.keys(params)
  if (weights.length !== names.length) {
    throw new NumericInputError("setWeights", `expected ${names.length} tensors, got ${weights.length}`)
  }
  weights.forEach((w, i) => {
    const v = params[w.name]
    if (v === undefined || names[i] !== w.name) throw new NumericInputError("setWeights", `unexpected parameter ${w.name} at ${i}`)
    if (w.shape.length !== v.shape.length || w.shape.some((s, j) => s !== v.shape[j]) || w.values.length !== v.size) {
      throw new NumericInputError("setWeights", `${w.name}: shape [${w.shape}] (${w.values.length} values) != [${v.shape}]`)
    }
  })
  for (const w of weights) {
    const v = params[w.name]!
    tf.tidy(() => v.assign(tf.tensor(w.values, [...w.shape], "float32")))
  }
}

/** sha-256 over names, shapes and the raw float bytes: equal hashes mean bit-identical weights. */
export const weightsHash = (params: Params): string => {
  const parts: Array<string> = []
  for (const w of getWeights(params)) {
    parts.push(`${w.name}:${w.shape.join("x")}:${sha256Hex(new Uint8Array(w.values.buffer, w.values.byteOffset, w.values.byteLength))}`)
  }
  return sha256Hex(parts.join("\n"))
}

/** In place: target <- rate * target + (1 - rate) * source (an EMA teacher update). */
export const emaUpdate = (target: Params, source: Params, rate: number): void => {
  if (!(rate >= 0 && rate <= 1)) throw new NumericInputError("emaUpdate", `rate must be in [0, 1], got ${rate}`)
  for (const [name, t] of Object.entries(target)) {
    const s = source[name]
    if (s === undefined) throw new NumericInputError("emaUpdate", `source has no parameter ${name}`)
    tf.tidy(() => t.assign(t.mul(rate).add(s.mul(1 - rate))))
  }
}

/** New variables holding `weights` (e.g. loaded from a checkpoint); names and shapes must match cfg. */
export const paramsFromWeights = (cfg: ModelConfig, weights: Weights): Params => {
  const specs = paramSpecs(cfg)
  if (specs.length !== weights.length) throw new NumericInputError("paramsFromWeights", `expected ${specs.length} tensors, got ${weights.length}`)
  const out: Record<string, tf.Variable> = {}
  specs.forEach((s, i) => {
    const w = weights[i]!
    if (w.name !== s.name || w.values.length !== sizeOf(s.shape) || w.shape.join("x") !== s.shape.join("x")) {
      throw new NumericInputError("paramsFromWeights", `tensor ${i}: got ${w.name} [${w.shape}], expected ${s.name} [${s.shape}]`)
    }
    out[s.name] = newVariable(w.values, s.shape, true)
  })
  return out
}
