/**
 * Memory the real pipeline writes from a model's own rollouts (issue #13, the bootstrapped warm-up stage):
 * the model samples every problem of a pool memory-free, the verifier judges each attempt, and a memory
 * keeper built like a run's (actors/memory: experience → reflector → consolidator, the built-in plug-ins)
 * records them, round after round. What the teacher of a run would then see of each problem (experience,
 * insights, top-K retrieved behaviors) is kept as its memory view.
 *
 * Why: the synthetic memory of stage 1 (memoryContext.ts: one-edit corruptions, the own skill always among
 * the behaviors) is not what a run's memory holds. A run's lessons come from the model's own failures and
 * its behaviors from clusters the consolidator formed, retrieved by similarity (findings §6, §13.2-13.3:
 * the base reads those lessons as solution hints, and retrieval brings another cluster's behavior most of
 * the time). A reader trained on this memory meets the real thing in distribution.
 *
 * Deterministic: rollouts come from streams keyed by (seed, round, problem id, sample), problems are
 * processed in pool order, and the keeper is the run's own (sorted, versioned).
 */
import type { RunConfig } from "../../config/RunConfig.ts"
import { Rng } from "../../core/Rng.ts"
import { Control } from "../../domains/control.ts"
import type { ProblemBase } from "../../domains/Domain.ts"
import type { MemoryView } from "../../memory/retrieval/compose.ts"
import type { RolloutGroup } from "../../memory/pipeline.ts"
import { type ModelConfig, type Params, sample } from "../../numeric/index.ts"
import { builtinMemoryPluginsFor } from "../../plugins/builtins.ts"
import { memoryKeeper } from "../../../actors/memory/index.ts"
import { contentEmbedder } from "../problemEmbedder.ts"
import type { ExamplePool } from "./examples.ts"

export interface RolloutMemorySpec {
  /** sampling rounds: each samples every problem `samples` times and writes them as one step */
  readonly rounds: number
  readonly samples: number
  readonly temperature: number
  /** the keeper's memory settings (RunConfig["memory"]; levels EIB so that it reflects and consolidates) */
  readonly memory: RunConfig["memory"]
}

export interface RolloutMemoryStats {
  readonly problems: number
  readonly attempts: number
  readonly solved: number
  readonly strategies: number
  readonly lessons: number
  readonly behaviors: number
}

export interface RolloutMemory {
  /** each problem's view at the keeper's newest version (behaviors retrieved top-K) */
  readonly views: ReadonlyMap<string, MemoryView>
  readonly stats: RolloutMemoryStats
}

const SAMPLE_BATCH = 64

/**
 * The pool's memory after `spec.rounds` rounds of `params`'s own rollouts. `cfg` is a run config whose
 * `memory` the keeper reads (callers pass one with `spec.memory`); `rng` roots every stream used.
 */
export const rolloutMemory = <P extends ProblemBase>(
  params: Params, model: ModelConfig, pool: ExamplePool<P>, cfg: RunConfig, spec: RolloutMemorySpec, rng: Rng
): RolloutMemory => {
  const domain = pool.domain
  const keys = pool.problems.map((p) => ({ id: p.id, query: domain.prompt(p, rng.fork("canonical-prompt", p.id)) }))
  const keeper = memoryKeeper({ ...cfg, memory: spec.memory }, {
    embed: contentEmbedder(), train: keys, heldout: [], plugins: builtinMemoryPluginsFor(spec.memory.update)
  })
  let attempts = 0
  let solved = 0
  for (let round = 0; round < spec.rounds; round++) {
    const rows = pool.problems.flatMap((p) => Array.from({ length: spec.samples }, (_, k) => ({
      problem: p, k, prompt: domain.prompt(p, rng.fork("prompt", round, p.id, k)), rng: rng.fork("sample", round, p.id, k)
    })))
    const groups = new Map<string, Array<RolloutGroup["attempts"][number]>>()
    for (let i = 0; i < rows.length; i += SAMPLE_BATCH) {
      const chunk = rows.slice(i, i + SAMPLE_BATCH)
      const out = sample(params, model, chunk.map((r) => ({ prompt: r.prompt, rng: r.rng })), {
        temperature: spec.temperature, maxNewTokens: domain.maxResponseTokens, stopTokens: [Control.EOS], bannedTokens: [Control.PAD]
      })
      chunk.forEach((r, j) => {
        const response = out[j]!.tokens
        const v = domain.verify(r.problem, response, "train")
        attempts++
        if (v.solved) solved++
        const list = groups.get(r.problem.id) ?? []
        list.push({ response, feedback: v.feedback, success: v.solved, prov: { rolloutId: `boot-r${round}-${r.problem.id}-${r.k}`, policyVersion: 0, step: round, reward: v.reward } })
        groups.set(r.problem.id, list)
      })
    }
    keeper.afterRollouts([...groups].map(([problemId, as]) => ({ problemId, attempts: as })), { step: round, policyVersion: 0 }, true)
  }
  const head = keeper.newest.id
  const views = new Map(pool.problems.map((p) => [p.id, keeper.view(head, p.id, rng.fork("retrieve", p.id)).view] as const))
  const s = keeper.vm.state
  let strategies = 0
  let lessons = 0
  for (const i of s.insights.values()) {
    strategies += i.strategies.length
    lessons += i.lessons.length
  }
  return { views, stats: { problems: pool.problems.length, attempts, solved, strategies, lessons, behaviors: s.bank.behaviors.length } }
}
