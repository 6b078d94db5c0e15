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
  applyGrads,
  type HostGrads,
  lossGrads,
  type TrainOptions,
  type TrainStepResult,
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
  type SampleOptions,
  type SampleResult,
  scoreResponses,
  setWeights,
  trainStep,
  type Weights,
  weightsHash
} from "../../src/numeric/index.ts"
import type { PolicyState, Rehearsal, SampleRequest, UpdateStats } from "../../src/protocol/policy.ts"
import { Control } from "../../src/domains/control.ts"
import { groupAdvantages } from "../../src/numeric/losses/index.ts"
import { type AlignedBatch, alignBatch, batchScopes, type MicroContext, rowRanges, sliceBatch, type UpdateRow, withReferenceLogp } from "./batch.ts"
import { type LossKind, needsReferenceLogp, policyLoss, type RehearsalBatch, rehearsalLoss } from "./loss.ts"

/** The policy's request and reply records are its protocol's (src/protocol/policy.ts): data only. */
export type { PolicyState, SampleRequest, UpdateStats } from "../../src/protocol/policy.ts"

export class PolicyModel {
  readonly model: ModelConfig
  readonly cfg: RunConfig
  /** number of optimiser updates applied so far */
  version = 0
  /** bumped by every import: weight-set ids (WeightSource) never name two different sets of bits */
  generation = 0
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
    const source = this.samplingSource(lag)
    return { results: this.sampleFrom(source, requests, this.sampleOptions(maxNewTokens, greedy)), version: source.version }
  }

  /** The sampling settings of the run (greedy: the single most likely token). */
  sampleOptions(maxNewTokens: number, greedy: boolean): SampleOptions & { readonly topK: number; readonly topP: number; readonly stopTokens: ReadonlyArray<number> } {
    const s = this.cfg.sampling
    return greedy
      ? { temperature: 1, topK: 1, topP: 1, maxNewTokens, stopTokens: [Control.EOS] }
      : { temperature: s.temperature, topK: s.topK, topP: s.topP, maxNewTokens, stopTokens: [Control.EOS] }
  }

  /** Each request sampled from `source` with its own stream, Rng.root(seed).fork(...key). */
  sampleFrom(source: WeightSource, requests: ReadonlyArray<SampleRequest>, options: SampleOptions): Array<SampleResult> {
    return sample(source.params(), this.model, requests.map((r) => ({ prompt: r.prompt, rng: Rng.root(this.cfg.seed).fork(...r.key) })), options)
  }

  /** Teacher log-prob vectors [n * V] of each response under its context. */
  scoreTeacher(contexts: ReadonlyArray<ReadonlyArray<number>>, responses: ReadonlyArray<ReadonlyArray<number>>): Array<Float32Array> {
    if (contexts.length === 0) return []
    const c = this.cfg.teacher.interpolation
    const score = (src: WeightSource) => this.scoreWith(src, contexts, responses)
    return interpolateTeacher(score(this.teacherSource()), c >= 1 ? null : score(this.referenceSource()), c)
  }

  /** Full log-prob vectors [n * V] of each response under its context, from `source`'s weights. */
  scoreWith(source: WeightSource, contexts: ReadonlyArray<ReadonlyArray<number>>, responses: ReadonlyArray<ReadonlyArray<number>>): Array<Float32Array> {
    return scoreResponses(source.params(), this.model, contexts, responses).map((r) => r.logProbs)
  }

  /** Mean per-token entropy (nats) of the student on these responses. */
  entropy(contexts: ReadonlyArray<ReadonlyArray<number>>, responses: ReadonlyArray<ReadonlyArray<number>>): number {
    if (contexts.length === 0) return 0
    return meanEntropy(this.scoreWith(this.studentSource(), contexts, responses), this.model.vocabSize)
  }

  /** log pi_ref(response | prompt) per row (CPPO retention). */
  referenceSeqLogp(prompts: ReadonlyArray<ReadonlyArray<number>>, responses: ReadonlyArray<ReadonlyArray<number>>): Float32Array {
    return Float32Array.from(this.referenceTokenLogp(prompts, responses), (r) => r.reduce((a, b) => a + b, 0))
  }

  /** log pi_ref of each response token, per row (the GRPO part's KL to the base, `grpo.beta`). */
  referenceTokenLogp(prompts: ReadonlyArray<ReadonlyArray<number>>, responses: ReadonlyArray<ReadonlyArray<number>>): Array<Float32Array> {
    return scoreResponses(this.reference, this.model, prompts, responses).map((r) => r.tokenLogProbs)
  }

  /**
   * One optimiser step on the rows; moves an EMA teacher afterwards. With `optim.microBatches` > 1 the
   * rows go in micro-batches whose gradients are summed in order (`planUpdate`, `microGrads`, `applyUpdate`).
   * `rehearsal` (`memory.rehearsal`) and `recall` (`memory.recall`): sequences whose next-token loss joins the update's.
   */
  update(rows: ReadonlyArray<UpdateRow>, kind: LossKind, importance: boolean, rehearsal?: Rehearsal, recall?: Rehearsal): UpdateStats {
    return this.updateWith(this.planUpdate(rows, kind, importance, rehearsal, recall), rows)
  }

  /** `update` on a plan already made from these rows. */
  updateWith(plan: UpdatePlan, rows: ReadonlyArray<UpdateRow>): UpdateStats {
    if (plan.micro !== null) return this.applyUpdate(plan, plan.micro.map((m) => this.microGrads(plan, m)))
    const { batch, kind, importance, sequences } = plan
    const refSeqLogp = this.cfg.cppo.enabled ? this.referenceSeqLogp(rows.map((r) => r.prompt), rows.map((r) => r.response)) : null
    this.remember()
    const loss = () => sequences.reduce(
      (total, s) => total.add(rehearsalLoss(this.student, this.model, this.cfg, s)) as typeof total,
      policyLoss(this.student, this.model, this.cfg, kind, { batch, importance, refSeqLogp })
    )
    return this.afterStep(trainStep(this.student, this.adam, loss, this.trainOptions()))
  }

  /** The update's aligned batch and, with `optim.microBatches` > 1, its micro-batches (contiguous rows). */
  planUpdate(rows: ReadonlyArray<UpdateRow>, kind: LossKind, importance: boolean, rehearsal?: Rehearsal, recall?: Rehearsal): UpdatePlan {
    const aligned = alignBatch(rows, this.model.vocabSize, Control.PAD)
    const batch = needsReferenceLogp(this.cfg, kind)
      ? withReferenceLogp(aligned, rows, this.referenceTokenLogp(rows.map((r) => r.prompt), rows.map((r) => r.response)))
      : aligned
    const sequences = [rehearsal, recall].flatMap((r) =>
      r !== undefined && r.rows.length > 0 && r.weight > 0 ? [{ batch: alignRehearsal(r, this.model.vocabSize), weight: r.weight }] : [])
    const k = Math.min(this.cfg.optim.microBatches ?? 1, batch.B)
    if (k <= 1) return { kind, importance, batch, micro: null, sequences }
    const advantages = groupAdvantages(batch.rewards, batch.groups, { scaleRewards: this.cfg.grpo.scaleRewards })
    const scope = batchScopes(batch)
    return {
      kind, importance, batch, sequences,
      micro: rowRanges(batch.B, k).map(([lo, hi]) => ({ batch: sliceBatch(batch, lo, hi), context: { advantages: advantages.slice(lo, hi), scope } }))
    }
  }

  /** One micro-batch's share of the loss and its gradients, on the student as it is now (read back). */
  microGrads(plan: UpdatePlan, micro: MicroBatch): HostGrads {
    return lossGrads(this.student, () =>
      policyLoss(this.student, this.model, this.cfg, plan.kind, { batch: micro.batch, importance: plan.importance, refSeqLogp: null, micro: micro.context }))
  }

  /**
   * Sums the micro-batches' gradients in order, then the rehearsal's and the recall's (computed here, on the learner, so
   * which thread did a micro-batch never matters), and applies them as one update.
   */
  applyUpdate(plan: UpdatePlan, parts: ReadonlyArray<HostGrads>): UpdateStats {
    const all = [...parts, ...plan.sequences.map((s) => lossGrads(this.student, () => rehearsalLoss(this.student, this.model, this.cfg, s)))]
    this.remember()
    return this.afterStep(applyGrads(this.student, this.adam, all, this.trainOptions()))
  }

  private trainOptions(): TrainOptions {
    const o = this.cfg.optim
    return {
      schedule: { lr: o.lr, warmupSteps: o.warmupSteps, decay: "constant" },
      adam: { beta1: o.beta1, beta2: o.beta2, eps: 1e-8, weightDecay: o.weightDecay },
      clipNorm: o.clipNorm
    }
  }

  private afterStep(r: TrainStepResult): UpdateStats {
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
    this.generation++
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

  /** The weights sampling with `lag` uses: version - lag, clamped to the history kept (the oldest kept). */
  samplingSource(lag: number): WeightSource {
    if (lag === 0 || this.history.length === 0) return this.studentSource()
    const target = Math.max(this.version - lag, this.history[0]!.version)
    return this.historySource(this.history.find((x) => x.version === target) ?? this.history[0]!)
  }

  /** The student's weights of `version` if this policy still has them (the current ones or kept history). */
  sourceAtVersion(version: number): WeightSource | undefined {
    if (version === this.version) return this.studentSource()
    const h = this.history.find((x) => x.version === version)
    return h === undefined ? undefined : this.historySource(h)
  }

  studentSource(): WeightSource {
    const student = this.student
    return { id: `g${this.generation}/student@${this.version}`, version: this.version, params: () => student, weights: () => getWeights(student) }
  }

  /** The teacher's own weights (the student's for a live teacher), before any interpolation with the reference. */
  teacherSource(): WeightSource {
    const teacher = this.teacher
    if (teacher === null) return this.studentSource()
    return { id: `g${this.generation}/teacher@${this.version}`, version: this.version, params: () => teacher, weights: () => getWeights(teacher) }
  }

  /** The base weights (never change after construction). */
  referenceSource(): WeightSource {
    const reference = this.reference
    return { id: "reference", version: 0, params: () => reference, weights: () => getWeights(reference) }
  }

  private historySource(h: { version: number; weights: Weights }): WeightSource {
    return {
      id: `g${this.generation}/student@${h.version}`,
      version: h.version,
      params: () => {
        if (this.behaviour === null) this.behaviour = paramsFromWeights(this.model, h.weights)
        else setWeights(this.behaviour, h.weights)
        return this.behaviour
      },
      weights: () => h.weights
    }
  }
}

/** An update laid out: its batch, and its micro-batches (null: one pass over the whole batch). */
export interface UpdatePlan {
  readonly kind: LossKind
  readonly importance: boolean
  readonly batch: AlignedBatch
  readonly micro: ReadonlyArray<MicroBatch> | null
  /** the rehearsal's, then the recall's sequences laid out (each present only with rows and a weight) */
  readonly sequences: ReadonlyArray<RehearsalBatch>
}

/** Rehearsal sequences laid out like update rows (their log-probs, reward and group are unused). */
const alignRehearsal = (r: Rehearsal, V: number): AlignedBatch =>
  alignBatch(r.rows.map((x) => ({ prompt: x.prompt, response: x.response, oldLogp: new Array<number>(x.response.length).fill(0), reward: 0, group: 0, teacherLogp: null })), V, Control.PAD)

/** Rows of the update's batch, with what they carry from the whole batch. */
export interface MicroBatch {
  readonly batch: AlignedBatch
  readonly context: MicroContext
}

/**
 * A set of weights, named so that equal ids mean equal bits (`g<generation>/student@<version>`: the
 * generation changes whenever the state is imported), with its tensors and its values built on demand.
 */
export interface WeightSource {
  readonly id: string
  readonly version: number
  readonly params: () => Params
  readonly weights: () => Weights
}

/**
 * The teacher's log-probs: its own, or lerp(ref, own, c) with the reference (c < 1). The lerp of
 * log-probs equals the lerp of logits up to a per-position constant, which the loss's re-normalisation
 * removes (softmax is shift-invariant).
 */
export const interpolateTeacher = (own: ReadonlyArray<Float32Array>, ref: ReadonlyArray<Float32Array> | null, c: number): Array<Float32Array> =>
  ref === null ? [...own] : own.map((r, i) => Float32Array.from(r, (x, j) => ref[i]![j]! + c * (x - ref[i]![j]!)))

/** Mean per-token entropy (nats) of log-prob vectors [n * V] (positions summed in row order). */
export const meanEntropy = (rows: ReadonlyArray<Float32Array>, V: number): number => {
  let h = 0
  let n = 0
  for (const lp of rows) {
    for (let off = 0; off < lp.length; off += V) {
      for (let v = 0; v < V; v++) h -= Math.exp(lp[off + v]!) * lp[off + v]!
      n++
    }
  }
  return n === 0 ? 0 : h / n
}
