/**
 * `memory-replay` as one Effect, shared by the CLI command and the library API: inputs checked before the
 * output directory is touched (a typed error names the run, file, field or plug-in), then the replay under
 * the output directory's lock (one writer per directory, as for runs).
 */
import { Effect } from "effect"
import { makeDirDurable } from "../../core/durableFile.ts"
import { initBackend } from "../../numeric/index.ts"
import type { PluginRegistry } from "../../plugins/registry.ts"
import { withRunLock } from "../runLock.ts"
import { checkOutsideRun } from "./outDir.ts"
import { type MemoryReplayInput, memoryReplayInto, type MemoryReplayResult, readReplayInputs } from "./replay.ts"

export type { MemoryReplayInput, MemoryReplayResult } from "./replay.ts"
export type { Comparison, VersionRef, VersionRow } from "./compare.ts"
export { REPLAY_FILES } from "./outDir.ts"
export { ROLLOUTS_FILE, RolloutsFileError } from "./rolloutsFile.ts"

/** Replays RUN's recorded memory calls into `out` and compares; thrown typed errors are the caller's to type. */
export const runMemoryReplay = (input: MemoryReplayInput & { readonly registry: PluginRegistry }): Effect.Effect<MemoryReplayResult> =>
  Effect.suspend(() => {
    const inputs = readReplayInputs(input)
    checkOutsideRun(input.out, input.run)
    makeDirDurable(input.out)
    // the base's hidden states key problems with memory.problemKey=base-hidden: the run's backend, its bits
    const backend = (inputs.cfg.memory.problemKey ?? "ngrams") === "ngrams" ? Effect.void : Effect.promise(() => initBackend(inputs.cfg.backend, { threads: inputs.cfg.threads ?? 1, fma: inputs.cfg.numeric?.fma ?? false }))
    return Effect.andThen(backend, withRunLock(input.out, "memory-replay", Effect.sync(() => memoryReplayInto(inputs, input.out))))
  })
