/**
 * The fully resolved configuration of one training run, validated with Effect Schema.
 *
 * Every knob of the simulation lives here, named after the reference implementations (TRL / verl /
 * LAS / PMD, see ../shared/reference/algorithms.md) where one exists. A run directory stores this
 * object as config.json; its canonical hash (configHash) is part of summary.json. Presets
 * (presets.ts) are complete configs; files and `--set key=value` overrides are merged on top and the
 * result is decoded here, so a bad value fails with a message naming the field.
 */
import { Schema } from "effect"

const NonNegInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const PosInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))
const Unit = Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }))
const NonNeg = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))
const Positive = Schema.Finite.check(Schema.isGreaterThan(0))

export const Methods = ["grpo", "sdpo", "pmd", "pmd-transient", "frozen-policy", "frozen-memory"] as const

/** A plug-in's registered name (src/plugins/registry.ts): a letter or digit, then letters, digits and . _ - / @ : */
export const PLUGIN_NAME = /^[A-Za-z0-9][A-Za-z0-9._\-/@:]*$/
const PluginName = Schema.String.check(Schema.makeFilter((s: string) =>
  PLUGIN_NAME.test(s) || `expected a plug-in name (a letter or digit, then letters, digits or . _ - / @ :), got ${JSON.stringify(s)}`))
export type Method = (typeof Methods)[number]

export const RunConfig = Schema.Struct({
  /** run seed: every random stream is forked from it */
  seed: NonNegInt,
  method: Schema.Literals(Methods),
  domain: Schema.Literals(["code", "science"]),
  /** the benchmark's generator seed (0 = the problems the committed base was calibrated on); not the run seed */
  domainSeed: NonNegInt,
  /** training steps (one step = one batch of problems, groupSize rollouts each, one update) */
  steps: PosInt,
  batchProblems: PosInt,
  groupSize: PosInt,
  sampling: Schema.Struct({ temperature: Positive, topK: NonNegInt, topP: Unit }),
  model: Schema.Struct({ dModel: PosInt, nLayers: PosInt, nHeads: PosInt, dMlp: PosInt, contextLength: PosInt }),
  /**
   * "warmup": start from the committed base checkpoint (§9 calibration); "scratch": seeded random init;
   * "bootstrapped": the warm-up continued on memory the real pipeline wrote from the base's own rollouts
   * (src/experiments/warmup/bootstrap.ts; built once with `node src/experiments/warmup/build.ts --bootstrapped`)
   */
  base: Schema.Literals(["warmup", "scratch", "bootstrapped"]),
  optim: Schema.Struct({
    lr: Positive,
    weightDecay: NonNeg,
    clipNorm: Positive,
    warmupSteps: NonNegInt,
    beta1: Unit,
    beta2: Unit,
    /**
     * gradient accumulation (absent = 1, one pass over the whole batch): the update's rows in this many
     * micro-batches, each weighted as part of the whole batch, their gradients summed in order. Its bits
     * differ from one pass (another summation order); it needs less memory, and with
     * `async.execution: "pipelined"` the rollout workers compute micro-batches beside the learner, with
     * the same bits as inline. Not with CPPO (its selection spans the whole batch).
     */
    microBatches: Schema.optionalKey(PosInt),
    /**
     * recompute each transformer block's activations in the backward pass instead of keeping them
     * (gradient checkpointing, src/numeric/model/recompute.ts; absent = false): the same bits, a lower
     * wasm-heap high-water mark (a run's resident memory), one more forward of the blocks per update
     */
    recompute: Schema.optionalKey(Schema.Boolean)
  }),
  grpo: Schema.Struct({
    scaleRewards: Schema.Literals(["group", "batch", "none"]),
    lossType: Schema.Literals(["grpo", "bnpo", "dr_grpo", "dapo"]),
    epsilon: NonNeg,
    epsilonHigh: NonNeg,
    beta: NonNeg
  }),
  sdpo: Schema.Struct({
    /** 0 forward KL, 1 reverse KL, else generalized JSD */
    alpha: Unit,
    /** distillation support: 0 = full vocabulary, else the student's top-k plus a tail bucket */
    distillationTopK: NonNegInt,
    variant: Schema.Literals(["logit", "sampled_token"]),
    isClip: Positive,
    /** teacher sharpness: teacher log-probs re-softmaxed at this temperature (ARCHITECTURE.md §9.2) */
    teacherTemperature: Positive,
    /** student entropy bonus coefficient */
    entropyCoef: NonNeg,
    /** blend with GRPO: loss = (1-w) GRPO + w distillation (w = 1: pure SDPO / PMD) */
    distillationWeight: Unit,
    successThreshold: Unit,
    includeFeedback: Schema.Boolean,
    dontRepromptOnSelfSuccess: Schema.Boolean,
    /**
     * a rollout gets a teacher only when its context shows a solution (a successful sibling's, or a
     * stored one from memory); contexts built from failures only (own or stored feedback, lessons,
     * behaviors) are masked out. Absent = false (any block makes a teacher). With memory this is what
     * `includeFeedback: false` is for SDPO: PMD's stored failures otherwise still give feedback-only teachers.
     */
    teacherNeedsSolution: Schema.optionalKey(Schema.Boolean),
    /**
     * false: no rollout of a group that solved its problem this step gets a teacher, so such groups learn
     * from GRPO alone and distillation acts only where nothing succeeded (for PMD: toward a stored
     * solution). Absent = true. Measured (findings §17): on solved groups the sibling teacher costs the
     * probability GRPO's reward adds there; on unsolved ones the stored solution's teacher adds some.
     */
    teachSolvedGroups: Schema.optionalKey(Schema.Boolean)
  }),
  teacher: Schema.Struct({
    kind: Schema.Literals(["live", "ema", "frozen"]),
    emaRate: Unit,
    /** reference-interpolated teacher: logits = lerp(ref, teacher, c); 1 = off */
    interpolation: Unit
  }),
  memory: Schema.Struct({
    levels: Schema.Literals(["E", "EI", "EIB"]),
    successesMax: PosInt,
    failuresMax: PosInt,
    duplicateSimilarity: Unit,
    insightsMax: PosInt,
    /** behaviors are consolidated every this many steps (the slow clock) */
    behaviorEvery: PosInt,
    behaviorTopK: NonNegInt,
    bankCapacity: PosInt,
    /** the teacher reads memory version newest - lag */
    lag: NonNegInt,
    /** frozen-memory method: memory is built by the frozen policy for this many steps, then frozen */
    frozenAfterSteps: NonNegInt,
    retrieval: Schema.Literals(["query", "avefact", "random"]),
    /**
     * what problems are embedded by, for clustering and behavior retrieval (src/experiments/problemEmbedder.ts;
     * absent = "ngrams", so default runs and their hashes are unchanged): "ngrams" = the seeded hashed
     * n-grams of the prompt; "base-hidden" = the initial network's hidden state at the prompt's last position
     */
    problemKey: Schema.optionalKey(Schema.Literals(["ngrams", "base-hidden"])),
    /**
     * behavior level: PMD's consolidator ("pmd"), or a Memp store with this update policy: "vanilla",
     * "validation", "adjustment" or a Memp policy plug-in registered under that name (src/plugins)
     */
    update: PluginName,
    /** Memp build policy: what an item stores (Trajectory, Script, Proceduralization) */
    mempBuild: Schema.Literals(["trajectory", "script", "proceduralization"]),
    contextTokensMax: PosInt,
    /** when an avoid behavior is contradicted (absent = "majority"; see src/memory/behavior/abstract.ts) */
    avoidContradiction: Schema.optionalKey(Schema.Literals(["majority", "any-strategy"])),
    /**
     * sharpened reflection (issue #13; absent = "off", so default runs and their hashes are unchanged):
     * "reflector" = lessons only from a contrast with a success, each the failure's own separating region
     * (src/memory/insight/contrast.ts); "all" = that, and the consolidator proposes skill behaviors only
     * (no [AVOID] behaviors); "no-lessons" = the reflector writes strategies only. Measured (seeds 11-15,
     * docs/findings/memory-to-student.md §6): "all" hurts EI; "no-lessons" brings EI level with E.
     */
    sharpen: Schema.optionalKey(Schema.Literals(["off", "reflector", "all", "no-lessons"])),
    /**
     * solution replay (actors/orchestrator/replay.ts): a problem no rollout solved this step gets its best
     * stored success as one more row of its GRPO group (off-policy guidance from the model's own past);
     * absent = false. Not with async.staleness > 0 (replay rows take no importance ratio).
     */
    replaySolutions: Schema.optionalKey(Schema.Boolean),
    /**
     * rehearsal (actors/orchestrator/rehearsal.ts): the weight of a next-token loss on this step's solving
     * responses under their problems' memory-augmented prompts, added to the update's loss, so the network
     * keeps reading memory; absent or 0 = none. No effect for methods without memory (GRPO, SDPO).
     */
    rehearsal: Schema.optionalKey(NonNeg),
    /**
     * recall (actors/orchestrator/recall.ts): each step, this many problems the run solved before and not
     * in the step's batch have their best stored success learned by next-token loss under a memory-free
     * prompt, so what the experience level stores reaches the student between visits; absent or 0 = none.
     * No effect for methods without memory (GRPO, SDPO).
     */
    recall: Schema.optionalKey(NonNegInt),
    /** the weight of recall's token-mean next-token loss (absent = 0.5) */
    recallWeight: Schema.optionalKey(NonNeg),
    /**
     * memory plug-ins by registered name (src/plugins; absent = "pmd", the built-in): the consolidator
     * (behavior bank), the reflector (insights) and the retriever (behaviors shown to the teacher). The
     * name is hashed with the config; the plug-in's code is not (README, "Use pmdsim as a library").
     */
    consolidator: Schema.optionalKey(PluginName),
    reflector: Schema.optionalKey(PluginName),
    retriever: Schema.optionalKey(PluginName),
    /**
     * memory transfer: "RUN_DIR@STEP" starts this run with the memory of run RUN_DIR at its checkpoint
     * STEP (src/experiments/importMemory.ts); absent or "none" (a sweep knob cannot say "absent") = empty.
     */
    importFrom: Schema.optionalKey(Schema.String.check(Schema.makeFilter((s: string) =>
      s === "none" || /^.+@\d+$/.test(s) || `memory.importFrom: expected "RUN_DIR@STEP" (a run directory, "@", a checkpoint step) or "none", got ${JSON.stringify(s)}`)))
  }),
  cppo: Schema.Struct({ enabled: Schema.Boolean, k: NonNeg, ub: NonNeg, lb: NonNeg, retentionBeta: NonNeg }),
  async: Schema.Struct({
    /** rollouts for step t come from the policy of step t - staleness (0 = on-policy) */
    staleness: NonNegInt,
    maxStaleness: NonNegInt,
    correction: Schema.Literals(["discard", "importance"]),
    /**
     * how each problem's rollout lag is chosen (issue #17; absent = "uniform", so runs and hashes are
     * unchanged): "uniform" = drawn in [0, staleness] per (step, problem) from the seeded stream; "fixed" =
     * always `staleness` (a pipeline that is exactly that many updates behind), clamped by the history
     */
    lagSchedule: Schema.optionalKey(Schema.Literals(["uniform", "fixed"])),
    /**
     * how the rollout work runs (issue #17; absent = "inline"; results are bit-identical either way):
     * "inline" = on the learner's thread; "pipelined" = rollout worker threads (own tfjs each) share the
     * sampling, teacher scoring and entropy row by row, and sample the next step's rollouts (those whose
     * declared policy version already exists) while the learner updates
     */
    execution: Schema.optionalKey(Schema.Literals(["inline", "pipelined"])),
    /** rollout worker threads of the pipelined execution (absent = 1) */
    rolloutWorkers: Schema.optionalKey(PosInt),
    /**
     * test knob (absent = 0): every rollout-worker job, and the learner before each update, first waits a
     * seeded random 0..N ms of real time; results must not change (they are checked not to)
     */
    injectDelayMs: Schema.optionalKey(NonNegInt)
  }),
  eval: Schema.Struct({
    every: PosInt,
    /** problems per protocol (0 = all: the full splits) */
    problems: NonNegInt,
    k: PosInt,
    memoryAugmented: Schema.Boolean,
    /**
     * the seed of every evaluation stream (absent = the run seed; actors/orchestrator/evaluate.ts). A
     * result field: it changes evaluation rows, which the journal records; it never reaches training.
     * `pmdsim eval-noise` varies it.
     */
    seed: Schema.optionalKey(NonNegInt)
  }),
  /**
   * numeric modes (issue #17; absent = exact, so runs and hashes are unchanged). `fma: true`: the policy's
   * matmuls (forward and both gradients) run in relaxed-SIMD fused multiply-add kernels on the wasm backend
   * (src/numeric/fmaMode.ts), about 1.4-2x faster per train step. A result field: its bits differ from the
   * exact mode's and are machine-specific (deterministic on one machine); checkpoints record the machine's
   * fma fingerprint and a resume on a machine whose fingerprint differs is refused. Other backends ignore it.
   */
  numeric: Schema.optionalKey(Schema.Struct({ fma: Schema.Boolean })),
  /** tfjs backend: wasm (default, deterministic), cpu (deterministic, slow), tfjs-node(-gpu) when installed, auto */
  backend: Schema.Literals(["wasm", "cpu", "tfjs-node", "tfjs-node-gpu", "auto"]),
  /** verifier worker threads */
  workers: PosInt,
  /**
   * XNNPACK threads of the wasm backend (absent = 1). Results are bit-identical for every value, so
   * this is a speed knob only: a sweep that runs one process per core wants 1.
   */
  threads: Schema.optionalKey(PosInt),
  /**
   * injected verifier faults (per-attempt probabilities; transient: the last attempt runs clean) and the
   * per-attempt verification time-out. Keep the time-out far above a real check's cost: a check that times
   * out without an injected hang would make results depend on machine load.
   */
  faults: Schema.Struct({ crash: Unit, hang: Unit, slow: Unit, flaky: Unit, timeoutSeconds: Positive }),
  checkpointEvery: PosInt,
  /** what distinguishes this run inside a sweep (e.g. { "memory.lag": 2 }); read by the report */
  knobs: Schema.Record(Schema.String, Schema.Union([Schema.Finite, Schema.Boolean, Schema.String])),
  /** free-form domain knobs passed to the domain generator */
  domainOptions: Schema.Record(Schema.String, Schema.Union([Schema.Finite, Schema.Boolean, Schema.String]))
})

export type RunConfig = typeof RunConfig.Type
