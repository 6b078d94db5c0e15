/**
 * Replay: re-run a journaled program and compare its journal with the recorded one, entry by entry in
 * canonical order, reporting the first divergence (step, actor, kind, expected digest, got digest).
 *
 * `restart` entries are diagnostics of the environment (a fault, a crash that supervision absorbed),
 * not results, so by default they are left out of the comparison: a run with a transient crash replays
 * as identical to one without. Pass `kinds` to compare a different set. Entries are compared on
 * (step, kind, actor, digest); `seq` only orders them within an actor.
 */
import { Effect } from "effect"
import { ReplayDiverged } from "./Errors.ts"
import type { EntryKind, Journal, JournalEntry, Recorder } from "./Journal.ts"
import { makeRecorder } from "./Journal.ts"

export interface Divergence {
  /** Index of the first differing entry among the compared ones. */
  readonly index: number
  readonly step: number
  readonly actor: string
  readonly kind: string
  /** Digest in the recorded journal ("<missing>" if the re-run recorded more). */
  readonly expected: string
  /** Digest in the re-run ("<missing>" if the re-run recorded less). */
  readonly got: string
}

export type ReplayReport<A> =
  | { readonly _tag: "Identical"; readonly compared: number; readonly journal: Journal; readonly result: A }
  | { readonly _tag: "Diverged"; readonly divergence: Divergence; readonly journal: Journal; readonly result: A }

export interface ReplayOptions {
  /** Entry kinds to compare (default: message, state, checkpoint). */
  readonly kinds?: ReadonlyArray<EntryKind>
}

const DEFAULT_KINDS: ReadonlyArray<EntryKind> = ["message", "state", "checkpoint"]
const MISSING = "<missing>"

/** The first entry where two journals differ, or undefined if they agree on the chosen kinds. */
export const firstDivergence = (
  expected: Journal,
  got: Journal,
  options?: ReplayOptions
): Divergence | undefined => {
  const kinds = new Set(options?.kinds ?? DEFAULT_KINDS)
  const a = expected.entries.filter((e) => kinds.has(e.kind))
  const b = got.entries.filter((e) => kinds.has(e.kind))
  const n = Math.max(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x: JournalEntry | undefined = a[i]
    const y: JournalEntry | undefined = b[i]
    if (x !== undefined && y !== undefined && x.step === y.step && x.kind === y.kind && x.actor === y.actor &&
      x.digest === y.digest) continue
    const at = x ?? y!
    return {
      index: i,
      step: at.step,
      actor: at.actor,
      kind: at.kind,
      expected: x === undefined ? MISSING : x.digest,
      got: y === undefined ? MISSING : sameSlot(x, y) ? y.digest : `${y.digest} (at step ${y.step}, ${y.actor}, ${y.kind})`
    }
  }
  return undefined
}

// When the re-run's entry is for another (step, actor, kind), say so rather than comparing apples to pears.
const sameSlot = (x: JournalEntry | undefined, y: JournalEntry): boolean =>
  x === undefined || (x.step === y.step && x.kind === y.kind && x.actor === y.actor)

/** Re-runs `rerun` with a fresh recorder and compares what it records against `expected`. */
export const replay = <A, E, R>(
  expected: Journal,
  rerun: (recorder: Recorder) => Effect.Effect<A, E, R>,
  options?: ReplayOptions
): Effect.Effect<ReplayReport<A>, E, R> =>
  Effect.gen(function*() {
    const recorder = yield* makeRecorder
    const result = yield* rerun(recorder)
    const journal = yield* recorder.journal
    const divergence = firstDivergence(expected, journal, options)
    if (divergence === undefined) {
      const kinds = new Set(options?.kinds ?? DEFAULT_KINDS)
      const compared = journal.entries.filter((e) => kinds.has(e.kind)).length
      return { _tag: "Identical", compared, journal, result } as const
    }
    return { _tag: "Diverged", divergence, journal, result } as const
  })

/** Like `replay`, but a divergence is a typed failure. */
export const replayExact = <A, E, R>(
  expected: Journal,
  rerun: (recorder: Recorder) => Effect.Effect<A, E, R>,
  options?: ReplayOptions
): Effect.Effect<A, E | ReplayDiverged, R> =>
  replay(expected, rerun, options).pipe(
    Effect.flatMap((report) =>
      report._tag === "Identical" ? Effect.succeed(report.result) : Effect.fail(new ReplayDiverged(report.divergence))
    )
  )
