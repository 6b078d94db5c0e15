/**
 * The memory actor's public entry: how to build it from data (the config, the embedders, the problem keys,
 * the run's versioned memory, the plug-ins), its behavior and transition, and its protocol. Other folders
 * import this module (or src/protocol/memory.ts), never the files beside it.
 *
 * The memory's state (the keeper, keeper.ts) stays inside the actor: a checkpoint's flags and Memp store
 * come back by message (`Restore`), the memory goes out as data (`Export`). The reflector and the
 * consolidator mirror the keeper's insights and bank, so their starting options come from here too.
 */
import type { RunConfig } from "../../src/config/RunConfig.ts"
import type { Embedder } from "../../src/memory/embed/hashEmbed.ts"
import type { VersionedMemory } from "../../src/memory/versioned.ts"
import type { MemoryPlugins } from "../../src/plugins/types.ts"
import type { ConsolidatorOptions } from "../consolidator/index.ts"
import type { ReflectorOptions } from "../reflector/index.ts"
import { MemoryKeeper, type ProblemKey } from "./keeper.ts"

export * from "../../src/protocol/memory.ts"
export { type Collaborators, expectMemory, memoryBehavior, type MemoryEnv, memoryTransition } from "./Memory.ts"
export type { MemoryAnswer, MemoryAsk, MemoryKeeper, ProblemKey } from "./keeper.ts"

/** What a memory is built from (data, and the run's plug-ins and fixed embedders). */
export interface MemorySpec {
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

/** A keeper over the spec's versioned memory (absent: a fresh in-memory store), with its embedders, problems and plug-ins. */
export const memoryKeeper = (cfg: RunConfig, spec: MemorySpec): MemoryKeeper =>
  new MemoryKeeper(cfg, spec.embed, spec.train, spec.heldout, spec.vm, spec.plugins, spec.embedProblem)

export interface MemoryParts {
  /** the memory actor's initial state */
  readonly keeper: MemoryKeeper
  /** PMD-Transient: a fresh, empty keeper for each step's throw-away memory */
  readonly fresh: () => MemoryKeeper
  /** the reflector's and the consolidator's options: they start from the keeper's insights and bank (a resumed run's too) */
  readonly reflector: ReflectorOptions
  readonly consolidator: ConsolidatorOptions
}

export const makeMemory = (cfg: RunConfig, spec: MemorySpec): MemoryParts => {
  const keeper = memoryKeeper(cfg, spec)
  const { vm: _, ...withoutStore } = spec
  return {
    keeper,
    fresh: () => memoryKeeper(cfg, withoutStore),
    // ... with the run's plug-ins (src/plugins), resolved from its config into the keeper
    reflector: {
      embed: keeper.embedder, insight: keeper.insightConfig, reflect: keeper.reflectEnv.reflect, initial: keeper.vm.state.insights,
      plugin: keeper.plugins.reflector
    },
    consolidator: {
      embedProblem: keeper.problemEmbedder, embedContent: keeper.embedder, config: keeper.consolidateConfig, initial: keeper.vm.state.bank,
      plugin: keeper.plugins.consolidator
    }
  }
}
