/**
 * The actors' own state, built from the run's data: the policy model (from the base weights, or a seeded
 * init) and the memory keeper (over the run's snapshot store, with its plug-ins), plus PMD-Transient's
 * fresh keeper. The app layer (src/experiments/setup.ts) hands in data (config, weights, problem keys,
 * the store, the resolved plug-ins) and passes the result to the pipeline (Pipeline.ts); it never
 * constructs an actor's internals itself.
 */
import type { RunConfig } from "../../src/config/RunConfig.ts"
import type { Embedder } from "../../src/memory/embed/hashEmbed.ts"
import type { VersionedMemory } from "../../src/memory/versioned.ts"
import type { ModelConfig, Weights } from "../../src/numeric/index.ts"
import type { MemoryPlugins } from "../../src/plugins/types.ts"
import { MemoryKeeper, type ProblemKey } from "../memory/keeper.ts"
import { PolicyModel } from "../policy/PolicyModel.ts"

export type { MemoryKeeper, ProblemKey } from "../memory/keeper.ts"
export type { PolicyModel } from "../policy/PolicyModel.ts"

export interface ActorPartsInput {
  readonly cfg: RunConfig
  readonly model: ModelConfig
  /** base weights; null: the seeded init */
  readonly weights: Weights | null
  /** the fixed embedder of memory content (insights, behaviors, experience near-duplicates) */
  readonly embed: Embedder
  /** the fixed embedder of problems, for clustering and retrieval (absent: `embed`) */
  readonly embedProblem?: Embedder
  /** training problems (clustered into behaviors) and held-out ones (they can retrieve them too) */
  readonly train: ReadonlyArray<ProblemKey>
  readonly heldout: ReadonlyArray<ProblemKey>
  /** the run's versioned memory (absent: a fresh in-memory store) */
  readonly vm?: VersionedMemory
  readonly plugins: MemoryPlugins
}

export interface ActorParts {
  readonly model: PolicyModel
  readonly keeper: MemoryKeeper
  readonly freshKeeper: () => MemoryKeeper
}

export const actorParts = (i: ActorPartsInput): ActorParts => {
  const keeper = (vm?: VersionedMemory) => new MemoryKeeper(i.cfg, i.embed, i.train, i.heldout, vm, i.plugins, i.embedProblem)
  const freshKeeper = () => keeper()
  return {
    model: new PolicyModel(i.cfg, i.model, i.weights),
    keeper: keeper(i.vm),
    freshKeeper
  }
}
