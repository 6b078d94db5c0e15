/** `replay` as an Effect: re-run a finished run from its config and compare it step by step with its journal. */
import { Effect } from "effect"
import { replayRun } from "../cli/commands/replay.ts"
import { type PmdsimError, typed } from "./errors.ts"

/** Where a replay first differed from the stored run (undefined: every step's state hash matched). */
export type ReplayDivergence = NonNullable<Effect.Success<ReturnType<typeof replayRun>>>

export interface ReplayResult {
  readonly identical: boolean
  readonly divergence: ReplayDivergence | undefined
}

/** Re-runs `dir` in a scratch directory (removed afterwards); plug-in names resolve in the registry in context. */
export const replay = (options: { readonly dir: string }): Effect.Effect<ReplayResult, PmdsimError> =>
  typed(replayRun(options.dir).pipe(Effect.map((d) => ({ identical: d === undefined, divergence: d }))))
