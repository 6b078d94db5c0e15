/**
 * Failures of the library API. pmdsim's checks throw typed errors (Schema.TaggedError classes such as
 * ConfigError, RunDirError, RunLocked, SweepChanged, CheckpointCorrupt): the API turns each into a
 * failure of the Effect, typed as PmdsimError (switch on `_tag`); anything else stays a defect (a bug).
 * `exitCodeOf` maps a failure to the CLI's exit code (2 bad input, 3 refused, 1 other).
 */
import { Effect } from "effect"

/** A typed pmdsim error: `_tag` names it ("ConfigError", "RunDirError", ...), `message` says what is wrong. */
export interface PmdsimError extends Error {
  readonly _tag: string
}

export const isPmdsimError = (e: unknown): e is PmdsimError =>
  e instanceof Error && typeof (e as { readonly _tag?: unknown })._tag === "string"

/** Runs `body`, turning a thrown or died typed error into a failure. */
export const typed = <A, E, R>(body: Effect.Effect<A, E, R>): Effect.Effect<A, E | PmdsimError, R> =>
  Effect.suspend(() => body).pipe(Effect.catchDefect((d) => (isPmdsimError(d) ? Effect.fail(d) : Effect.die(d))))

export { EXIT, exitCodeOf } from "../cli/failure.ts"
