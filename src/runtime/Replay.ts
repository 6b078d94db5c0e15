/**
 * Replay: re-run a journaled program and compare its journal with the recorded one, entry by entry in
 * canonical order, reporting the first divergence (step, actor, kind, expected digest, got digest).
 *
 * `restart` entries are diagnostics of the environment (a fault, a crash that supervision absorbed),
 * not results, so by default they are left out of the comparison: a run with a transient crash replays
 * as identical to one without. Pass `kinds` to compare a different set. Entries are compared on
 * (step, kind, actor, digest); `seq` only orders them within an actor. `replay` runs the re-run to its
 * end and returns a report; `replayExact` stops the re-run at the first mismatch and fails.
 */
import { Deferred, Effect } from "effect"
import { hashValue } from "../core/Hash.ts"
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
      got: y === undefined
        ? MISSING
        : sameSlot(x, y)
        ? y.digest
        : `${y.digest} (at step ${y.step}, ${y.actor}, ${y.kind})`
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

/**
 * A recorder that checks each entry as it is recorded against the expected journal, per actor in
 * recording (seq) order, and calls `onDiverge` at the first mismatch.
 */
const checkingRecorder = (
  inner: Recorder,
  expected: Journal,
  kinds: ReadonlySet<EntryKind>,
  onDiverge: (d: Divergence) => Effect.Effect<void>
): Recorder => {
  const compared = expected.entries.filter((e) => kinds.has(e.kind))
  const canonicalIndex = new Map(compared.map((e, i) => [e, i]))
  const byActor = new Map<string, Array<JournalEntry>>()
  for (const e of compared) byActor.set(e.actor, [...(byActor.get(e.actor) ?? []), e])
  for (const list of byActor.values()) list.sort((a, b) => a.seq - b.seq)
  const positions = new Map<string, number>()
  const check = (step: number, kind: EntryKind, actor: string, digest: string): Divergence | undefined => {
    if (!kinds.has(kind)) return undefined
    const k = positions.get(actor) ?? 0
    positions.set(actor, k + 1)
    const x = byActor.get(actor)?.[k]
    if (x !== undefined && x.step === step && x.kind === kind && x.digest === digest) return undefined
    return {
      index: x === undefined ? compared.length : canonicalIndex.get(x)!,
      step: x?.step ?? step,
      actor,
      kind: x?.kind ?? kind,
      expected: x?.digest ?? MISSING,
      got: x === undefined || (x.step === step && x.kind === kind) ? digest : `${digest} (at step ${step}, ${kind})`
    }
  }
  const recordDigest: Recorder["recordDigest"] = (input) =>
    inner.recordDigest(input).pipe(
      Effect.andThen(Effect.suspend(() => {
        const d = check(input.step, input.kind, input.actor, input.digest)
        // yield so the race in replayExact sees the divergence and interrupts the re-run right away
        return d === undefined ? Effect.void : onDiverge(d).pipe(Effect.andThen(Effect.yieldNow))
      }))
    )
  return {
    recordDigest,
    record: (input) => Effect.suspend(() => recordDigest({ ...input, digest: hashValue(input.value) })),
    journal: inner.journal
  }
}

/**
 * Like `replay`, but a divergence is a typed failure, and it **fails fast**: each entry is checked as
 * the re-run records it (per actor, in its recording order), and the re-run is interrupted at the first
 * mismatch, so a long run that diverges at step 3 does not run to the end. When several actors diverge,
 * the one reported is the first detected; a re-run that records too little is caught at its end.
 */
export const replayExact = <A, E, R>(
  expected: Journal,
  rerun: (recorder: Recorder) => Effect.Effect<A, E, R>,
  options?: ReplayOptions
): Effect.Effect<A, E | ReplayDiverged, R> =>
  Effect.gen(function*() {
    const kinds = new Set(options?.kinds ?? DEFAULT_KINDS)
    const diverged = yield* Deferred.make<never, ReplayDiverged>()
    const inner = yield* makeRecorder
    const recorder = checkingRecorder(inner, expected, kinds, (d) => Deferred.fail(diverged, new ReplayDiverged(d)))
    const result = yield* Effect.raceFirst(rerun(recorder), Deferred.await(diverged))
    const divergence = firstDivergence(expected, yield* inner.journal, options)
    if (divergence !== undefined) return yield* new ReplayDiverged(divergence)
    return result
  })
