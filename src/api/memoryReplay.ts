/**
 * `memoryReplay` as an Effect: a recorded run's memory rebuilt from its rollouts.jsonl without the policy,
 * through the memory pipeline its config names (or `set` overrides of `memory.*`), into `out`, and compared
 * with the run's own memory version by version, exactly as `pmdsim memory-replay`. Plug-in names resolve
 * in the `Plugins` registry in context (default: the process-wide one).
 */
import { Effect } from "effect"
import { type MemoryReplayResult, runMemoryReplay } from "../experiments/memoryReplay/index.ts"
import { Plugins } from "../plugins/services.ts"
import { type PmdsimError, typed } from "./errors.ts"

export type { Comparison as MemoryComparison, MemoryReplayResult, VersionRef as MemoryVersionRef, VersionRow as MemoryVersionRow } from "../experiments/memoryReplay/index.ts"

export interface MemoryReplayOptions {
  /** The recorded run (read only; it needs the rollouts.jsonl runs write since memory replay exists). */
  readonly run: string
  /** Where the replay's snapshot store and diff.json go: absent, empty, or a previous memory replay of the same inputs. */
  readonly out: string
  /** `memory.X=value` overrides, as `--set` (e.g. "memory.bankCapacity=8", "memory.consolidator=top-usage"). */
  readonly set?: ReadonlyArray<string>
}

export const memoryReplay = (options: MemoryReplayOptions): Effect.Effect<MemoryReplayResult, PmdsimError> =>
  typed(Effect.gen(function*() {
    const registry = yield* Plugins
    return yield* runMemoryReplay({ run: options.run, out: options.out, sets: options.set ?? [], registry })
  }))
