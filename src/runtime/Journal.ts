/**
 * The run journal: an append-only record of message digests and per-step state hashes.
 *
 * Guarantees:
 * - Append-only: a `Recorder` only ever adds entries; `journal` returns an immutable snapshot.
 * - Canonical: a snapshot is ordered by (step, actor, seq), where `seq` counts the entries one actor
 *   recorded. Entries recorded concurrently by different actors therefore land in the same order
 *   in every run, whatever the scheduling. The rule that makes this hold: each actor name records
 *   only from its own fiber, in an order that depends only on its inputs (an actor merging several
 *   senders first orders their messages by ids, src/core/Order.ts, never by arrival).
 * - Digests are `hashValue` (src/core/Hash.ts) of the canonical encoding of the message or state.
 * - Files: canonical msgpackr bytes (src/core/Codec.ts) of `JournalFile` (src/protocol/Journal.ts),
 *   with a checksum over the entries; written to a temp file, fsynced, then renamed, so a reader
 *   sees the old file or the new one, never half of one. A bad file fails with `JournalFileError`
 *   naming the file and the problem.
 */
import { Effect, Schema } from "effect"
import { readFile } from "node:fs/promises"
import { FileWriteError, writeFileDurable } from "../core/durableFile.ts"
import { decode, encode } from "../core/Codec.ts"
import { hashValue } from "../core/Hash.ts"
import { compareKeys } from "../core/Order.ts"
import { EntryKind, JOURNAL_FORMAT, JOURNAL_VERSION, JournalEntry, JournalFile } from "../protocol/Journal.ts"
import { JournalFileError } from "./Errors.ts"

export { EntryKind, JournalEntry }

/** A journal: entries in canonical order. */
export interface Journal {
  readonly entries: ReadonlyArray<JournalEntry>
}

/** What a caller records: the value is hashed, never stored. */
export interface RecordInput {
  readonly step: number
  readonly kind: EntryKind
  readonly actor: string
  readonly value: unknown
}

/** An append-only journal under construction. */
export interface Recorder {
  /** Appends one entry whose digest is `hashValue(value)`. Dies if the value is not encodable (a bug). */
  readonly record: (input: RecordInput) => Effect.Effect<void>
  /** Appends one entry with a precomputed digest (sha-256 hex). */
  readonly recordDigest: (input: Omit<RecordInput, "value"> & { readonly digest: string }) => Effect.Effect<void>
  /** The entries so far, in canonical order. */
  readonly journal: Effect.Effect<Journal>
}

const entryKey = (e: JournalEntry): ReadonlyArray<string | number> => [e.step, e.actor, e.seq]

/** Sorts entries into canonical (step, actor, seq) order. */
export const canonicalOrder = (entries: ReadonlyArray<JournalEntry>): Array<JournalEntry> =>
  [...entries].sort((a, b) => compareKeys(entryKey(a), entryKey(b)))

/** A fresh, empty recorder. */
export const makeRecorder: Effect.Effect<Recorder> = Effect.sync(() => {
  const entries: Array<JournalEntry> = []
  const seqs = new Map<string, number>()
  const recordDigest = (input: Omit<RecordInput, "value"> & { readonly digest: string }) =>
    Effect.sync(() => {
      if (!Number.isInteger(input.step) || input.step < 0) {
        throw new RangeError(`journal: step must be a non-negative integer, got ${input.step} (${input.actor})`)
      }
      const seq = seqs.get(input.actor) ?? 0
      seqs.set(input.actor, seq + 1)
      entries.push({ step: input.step, kind: input.kind, actor: input.actor, seq, digest: input.digest })
    })
  return {
    recordDigest,
    record: (input) =>
      Effect.suspend(() =>
        recordDigest({ step: input.step, kind: input.kind, actor: input.actor, digest: hashValue(input.value) })
      ),
    journal: Effect.sync(() => ({ entries: canonicalOrder(entries) }))
  }
})

/** The state hashes of a journal, one per (step, actor), in canonical order. */
export const stateHashes = (journal: Journal): Array<JournalEntry> =>
  journal.entries.filter((e) => e.kind === "state")

/** One hash naming a whole journal (its canonical entries). */
export const journalHash = (journal: Journal): string => hashValue(journal.entries)

const fileError = (file: string, problem: string) => new JournalFileError({ file, problem })
const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** Writes a journal to `file` atomically (the one file layer: temp file, full write, fsync, rename). */
export const save = (file: string, journal: Journal): Effect.Effect<void, JournalFileError> =>
  Effect.try({
    try: () => {
      const entries = canonicalOrder(journal.entries)
      const body: JournalFile = { format: JOURNAL_FORMAT, version: JOURNAL_VERSION, checksum: hashValue(entries), entries }
      writeFileDurable(file, encode(body))
    },
    catch: (e) => fileError(file, `write failed: ${e instanceof FileWriteError ? e.problem : describe(e)}`)
  })

const decodeFile = Schema.decodeUnknownEffect(JournalFile)

/** Reads a journal written by `save`; rejects unreadable, truncated, malformed or tampered files. */
export const load = (file: string): Effect.Effect<Journal, JournalFileError> =>
  Effect.gen(function*() {
    const bytes = yield* Effect.tryPromise({
      try: () => readFile(file),
      catch: (e) => fileError(file, `read failed: ${describe(e)}`)
    })
    if (bytes.length === 0) return yield* fileError(file, "empty file")
    const raw = yield* Effect.try({
      try: () => decode(bytes),
      catch: (e) => fileError(file, `not a msgpack journal (truncated or corrupt?): ${describe(e)}`)
    })
    const parsed = yield* decodeFile(raw).pipe(
      Effect.mapError((e) => fileError(file, `not a pmdsim journal: ${e.message}`))
    )
    const checksum = hashValue(parsed.entries)
    if (checksum !== parsed.checksum) {
      return yield* fileError(file, `checksum mismatch: file says ${parsed.checksum}, entries hash to ${checksum}`)
    }
    return { entries: canonicalOrder(parsed.entries) }
  })
