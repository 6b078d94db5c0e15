/**
 * The policy's numeric state and the only bridge from the actors to src/numeric: the student's
 * weights, the optimiser, the teacher's weights (live / EMA / frozen, optionally interpolated with
 * the reference), the reference (base) weights, and a short history of past weights so rollouts can
 * come from an older policy (async staleness). Synchronous and deterministic on a deterministic
 * backend; the Policy actor wraps it.
 */
import type { RunConfig } from "../../src/config/RunConfig.ts"
import { Rng } from "../../src/core/Rng.ts"
import {
  type AdamState,
  createAdamState,
  disposeAdamState,
  disposeParams,
  emaUpdate,
  exportAdamState,
  getWeights,
  importAdamState,
  initParams,
  type ModelConfig,
  type Params,
  paramsFromWeights,
  sample,
  type SampleResult,
  scoreResponses,
  setWeights,
  trainStep,
  type Weights,
  weightsHash
} from "../../src/numeric/index.ts"
import type { PolicyState, SampleRequest, UpdateStats } from "../../src/protocol/policy.ts"
import { Control } from "../../src/domains/control.ts"
import { alignBatch, type UpdateRow } from "./batch.ts"
import { type LossKind, policyLoss } from "./loss.ts"

/** The policy's request and reply records are its protocol's (src/protocol/policy.ts): data only. */
export type { PolicyState, SampleRequest, UpdateStats } from "../../src/protocol/policy.ts"

export class PolicyModel {
  readonly model: ModelConfig
  readonly cfg: RunConfig
  /** number of optimiser updates applied so far */
  version = 0
  private readonly student: Params
  private readonly reference: Params
  private readonly teacher: Params | null
  private adam: AdamState
  private history: Array<{ version: number; weights: Weights }> = []
  private behaviour: Params | null = null

  constructor(cfg: RunConfig, model: ModelConfig, base: Weights | null) {
    this.cfg = cfg
    this.model = model
    this.student = base === null ? initParams(model, Rng.root(cfg.seed).fork("policy", "init")) : paramsFromWeights(model, base)
    this.reference = paramsFromWeights(model, getWeights(this.student))
    this.teacher = cfg.teacher.kind === "live" ? null : paramsFromWeights(model, getWeights(this.student))
    this.adam = createAdamState(this.student)
  }

  /** sha-256 of the student's weights. */
  hash(): string {
    return weightsHash(this.student)
  }

  /**
   * Samples one response per request from the policy of version `version - lag` (lag 0 = current).
   * Returns the results and the version actually used (lag is clamped to the history kept).
   */
  sample(requests: ReadonlyArray<SampleRequest>, maxNewTokens: number, lag = 0, greedy = false): { results: Array<SampleResult>; version: number } {
    const source = this.paramsAtLag(lag)
    const s = this.cfg.sampling
    const results = sample(
      source.params,
      this.model,
      requests.map((r) => ({ prompt: r.prompt, rng: Rng.root(this.cfg.seed).fork(...r.key) })),
      greedy
        ? { temperature: 1, topK: 1, topP: 1, maxNewTokens, stopTokens: [Control.EOS] }
        : { temperature: s.temperature, topK: s.topK, topP: s.topP, maxNewTokens, stopTokens: [Control.EOS] }
    )
    return { results, version: source.version }
  }

  /** Teacher log-prob vectors [n * V] of each response under its context. */
  scoreTeacher(contexts: ReadonlyArray<ReadonlyArray<number>>, responses: ReadonlyArray<ReadonlyArray<number>>): Array<Float32Array> {
    if (contexts.length === 0) return []
    const own = scoreResponses(this.teacher ?? this.student, this.model, contexts, responses)
    const c = this.cfg.teacher.interpolation
    if (c >= 1) return own.map((r) => r.logProbs)
    // reference-interpolated teacher: lerp(ref, teacher, c) of log-probs equals lerp of logits up to a
    // per-position constant, which the loss's re-normalisation removes (softmax is shift-invariant)
    const ref = scoreResponses(this.reference, this.model, contexts, responses)
    return own.map((r, i) => Float32Array.from(r.logProbs, (x, j) => ref[i]!.logProbs[j]! + c * (x - ref[i]!.logProbs[j]!)))
  }

  /** Mean per-token entropy (nats) of the student on these responses. */
  entropy(contexts: ReadonlyArray<ReadonlyArray<number>>, responses: ReadonlyArray<ReadonlyArray<number>>): number {
    if (contexts.length === 0) return 0
    const V = this.model.vocabSize
    let h = 0
    let n = 0
    for (const r of scoreResponses(this.student, this.model, contexts, responses)) {
      for (let off = 0; off < r.logProbs.length; off += V) {
        for (let v = 0; v < V; v++) {
          const lp = r.logProbs[off + v]!
          h -= Math.exp(lp) * lp
        }
        n++
      }
    }
    return n === 0 ? 0 : h / n
  }

  /** log pi_ref(response | prompt) per row (CPPO retention). */
  referenceSeqLogp(prompts: ReadonlyArray<ReadonlyArray<number>>, responses: ReadonlyArray<ReadonlyArray<number>>): Float32Array {
    const scored = scoreResponses(this.reference, this.model, prompts, responses)
    return Float32Array.from(scored, (r) => r.tokenLogProbs.reduce((a, b) => a + b, 0))
  }

  /** One optimiser step on the rows; moves an EMA teacher afterwards. */
  update(rows: ReadonlyArray<UpdateRow>, kind: LossKind, importance: boolean): UpdateStats {
    const batch = alignBatch(rows, this.model.vocabSize, Control.PAD)
    const refSeqLogp = this.cfg.cppo.enabled ? this.referenceSeqLogp(rows.map((r) => r.prompt), rows.map((r) => r.response)) : null
    this.remember()
    const o = this.cfg.optim
    const r = trainStep(this.student, this.adam, () => policyLoss(this.student, this.model, this.cfg, kind, { batch, importance, refSeqLogp }), {
      schedule: { lr: o.lr, warmupSteps: o.warmupSteps, decay: "constant" },
      adam: { beta1: o.beta1, beta2: o.beta2, eps: 1e-8, weightDecay: o.weightDecay },
      clipNorm: o.clipNorm
    })
    this.version++
    if (this.teacher !== null && this.cfg.teacher.kind === "ema") emaUpdate(this.teacher, this.student, 1 - this.cfg.teacher.emaRate)
    return { loss: r.loss, gradNorm: r.gradNorm, lr: r.lr, skipped: r.skipped }
  }

  exportState(): PolicyState {
    return {
      version: this.version,
      student: getWeights(this.student),
      adam: exportAdamState(this.adam),
      teacher: this.teacher === null ? null : getWeights(this.teacher),
      history: this.history.map((h) => ({ version: h.version, weights: h.weights }))
    }
  }

  importState(s: PolicyState): void {
    setWeights(this.student, s.student)
    disposeAdamState(this.adam)
    this.adam = importAdamState(this.student, s.adam)
    if (this.teacher !== null && s.teacher !== null) setWeights(this.teacher, s.teacher)
    this.history = s.history.map((h) => ({ version: h.version, weights: h.weights }))
    this.version = s.version
  }

  dispose(): void {
    disposeParams(this.student)
    disposeParams(this.reference)
    if (this.teacher !== null) disposeParams(this.teacher)
    if (this.behaviour !== null) disposeParams(this.behaviour)
    disposeAdamState(this.adam)
  }

  /** Keeps the weights of the version about to be replaced, as many as the staleness bound needs. */
  private remember(): void {
    const keep = this.cfg.async.staleness
    if (keep === 0) return
    this.history.push({ version: this.version, weights: getWeights(this.student) })
    while (this.history.length > keep) this.history.shift()
  }

  private paramsAtLag(lag: number): { params: Params; version: number } {
    if (lag === 0 || this.history.length === 0) return { params: this.student, version: this.version }
    const target = Math.max(this.version - lag, this.history[0]!.version)
    const h = this.history.find((x) => x.version === target) ?? this.history[0]!
    if (this.behaviour === null) this.behaviour = paramsFromWeights(this.model, h.weights)
    else setWeights(this.behaviour, h.weights)
    return { params: this.behaviour, version: h.version }
  }
}
