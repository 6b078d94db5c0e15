/**
 * The records a run writes to metrics.jsonl, one JSON object a line, and what the report reads back:
 * data shared by the evaluating actor, the run loop and the report, so it lives with the protocol.
 *
 * `train` rows come every step; `eval` rows every `evalEvery` steps, one per protocol
 * (internalization: the training problems under all their tests; transfer: held-out problems of
 * the same clusters). Accuracy figures are fractions in [0, 1].
 */

/** Accuracy figures of k samples per problem. */
export interface AccuracyAtK {
  readonly k: number
  /** mean reward over all samples (avg@k, the pass@1 estimate) */
  readonly avgAtK: number
  /** fraction of problems solved by at least one of k samples (pass@k = best@k) */
  readonly passAtK: number
  /** fraction of problems whose most frequent answer among k samples is correct */
  readonly majAtK: number
  /** best@k - maj@k: the verifier headroom (PMD Fig. 3) */
  readonly headroom: number
  /** greedy (argmax) decoding pass rate */
  readonly greedy: number
}

export interface TrainRow {
  readonly kind: "train"
  readonly step: number
  readonly rewardMean: number
  readonly loss: number
  readonly gradNorm: number
  /** mean per-token entropy of the student on its rollouts (nats) */
  readonly entropy: number
  /** fraction of rollouts that had a teacher context (SDPO mask = 1) */
  readonly teacherFraction: number
  /** fraction of training problems solved at least once so far */
  readonly everSolved: number
  /** memory version the teacher read, the newest version, and their distance (staleness) */
  readonly memoryVersionRead: number
  readonly memoryVersionNewest: number
  readonly memoryLag: number
  /**
   * memory.lag was cut short: the history held fewer than `lag` older versions, so the teacher read the
   * oldest one (memoryLag < memory.lag). Expected in a run's first steps; on most steps, the lag exceeds
   * the run's history. Counted in summary.json (memoryLagClampedSteps) and reported once at the end.
   */
  readonly memoryLagClamped: boolean
  /** policy version that generated the rollouts used in this update, and its lag */
  readonly rolloutPolicyVersion: number
  readonly rolloutLag: number
  readonly memorySizes: { readonly experience: number; readonly insights: number; readonly behaviors: number }
  readonly rolloutsPerSec: number
  readonly tokensPerSec: number
  /** wall milliseconds per stage (sample, verify, memory, teacher, update); informational, never hashed */
  readonly stageMs: Readonly<Record<string, number>>
  /** teacher diagnostics (actors/orchestrator/diagnostics.ts: context kinds, lift); informational, never hashed */
  readonly diagnostics?: Readonly<Record<string, number | null>>
}

/**
 * What the reflector and consolidator wrote, judged against the domain's ground truth (counts, and
 * fractions with null where nothing was judged); computed by src/memory/quality.ts.
 */
export interface ReflectorQuality {
  readonly strategies: number
  readonly strategyNamesSeparator: number | null
  readonly strategyNamesSkill: number | null
  readonly lessons: number
  readonly lessonAvoidsOwnSkill: number | null
  readonly skillBehaviors: number
  readonly skillBehaviorNamesClusterSkill: number | null
  readonly avoidBehaviors: number
  readonly avoidBehaviorNamesClusterSkill: number | null
}

export interface EvalRow {
  readonly kind: "eval"
  readonly step: number
  readonly protocol: "internalization" | "transfer"
  readonly problems: number
  readonly memoryFree: AccuracyAtK
  readonly memoryAugmented: AccuracyAtK | null
  /** internalization rows of runs with memory: what the reflector and consolidator wrote, judged (src/memory/quality.ts) */
  readonly reflector?: ReflectorQuality
}

export type MetricsRow = TrainRow | EvalRow

/** What `pmdsim report` needs of one run directory. */
export interface RunData {
  /** the run directory's name, unique within a report */
  readonly name: string
  readonly method: string
  readonly seed: number
  /** knob values that distinguish this run inside a sweep, e.g. { "memory.lag": 2 } */
  readonly knobs: Readonly<Record<string, string | number | boolean>>
  readonly rows: ReadonlyArray<MetricsRow>
  /** the run's trace.json (`run --trace`), relative to the report's directory, when it has one */
  readonly trace?: string
}
