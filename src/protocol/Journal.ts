/**
 * Wire schemas of the run journal (src/runtime/Journal.ts): what a journal entry is and how a journal
 * file is laid out. The file is the canonical msgpackr encoding (src/core/Codec.ts) of `JournalFile`;
 * `checksum` is src/core/Hash.ts `hashValue(entries)`, so a flipped byte that still decodes is caught.
 */
import { Schema } from "effect"

/** What an entry records. `restart` entries are diagnostics: replay ignores them by default. */
export const EntryKind = Schema.Literals(["message", "state", "restart", "checkpoint"])
export type EntryKind = typeof EntryKind.Type

const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const Sha256Hex = Schema.String.check(Schema.isPattern(/^[0-9a-f]{64}$/))

/**
 * One journal entry. `step` is the logical step the recording code names (a training step, or an
 * actor's message index); `seq` numbers the entries one actor recorded, in its own order. Canonical
 * order is (step, actor, seq): it never depends on which fiber recorded first.
 */
export const JournalEntry = Schema.Struct({
  step: NonNegativeInt,
  kind: EntryKind,
  actor: Schema.String,
  seq: NonNegativeInt,
  digest: Sha256Hex
})
export type JournalEntry = typeof JournalEntry.Type

export const JOURNAL_FORMAT = "pmdsim/journal"
export const JOURNAL_VERSION = 1

/** The on-disk layout of a journal. */
export const JournalFile = Schema.Struct({
  format: Schema.Literal(JOURNAL_FORMAT),
  version: Schema.Literal(JOURNAL_VERSION),
  checksum: Sha256Hex,
  entries: Schema.Array(JournalEntry)
})
export type JournalFile = typeof JournalFile.Type
