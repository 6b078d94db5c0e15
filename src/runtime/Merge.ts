/**
 * Canonical merge for actors that receive from several senders (ARCHITECTURE.md §4 rule 2).
 *
 * The rule: an actor that merges messages from several senders never acts on arrival order. It buffers
 * each group's messages (a step, a batch of rollouts) until the group is complete, then acts on the
 * group sorted by ids (src/core/Order.ts `sortByKey`). `Batches` is that buffer as a pure, immutable,
 * codec-encodable value, so it can live in an actor's committed state and be hashed.
 *
 * Guarantee: for any arrival order of the same messages, `add` completes the same groups with the same
 * canonically ordered contents. A duplicate id within a group, more messages than expected, or more
 * than `maxOpenGroups` incomplete groups is rejected (a RangeError: a protocol bug, which in a handler
 * is a defect), never silently merged.
 */
import { sortByKey } from "../core/Order.ts"

/** Buffered, incomplete groups: group key -> messages received so far (arrival order, never acted on). */
export type Batches<A> = ReadonlyMap<string | number, ReadonlyArray<A>>

export const emptyBatches = <A>(): Batches<A> => new Map()

export interface MergeSpec<A> {
  /** The group a message belongs to (e.g. its step). */
  readonly groupOf: (a: A) => string | number
  /** Its canonical id within the group (e.g. [rolloutId]); ids are unique within a group. */
  readonly idOf: (a: A) => ReadonlyArray<string | number>
  /** How many messages complete the group. */
  readonly expected: (group: string | number) => number
  /** Most incomplete groups held at once (default 1024): a bound, so a lost message cannot grow it forever. */
  readonly maxOpenGroups?: number
}

export interface Added<A> {
  readonly batches: Batches<A>
  /** The group this message completed, sorted by id; undefined while it is still incomplete. */
  readonly complete: ReadonlyArray<A> | undefined
}

const idText = (id: ReadonlyArray<string | number>) => JSON.stringify(id)

/** Adds one message; returns the new buffer and, if its group is now complete, the group in id order. */
export const add = <A>(batches: Batches<A>, spec: MergeSpec<A>, message: A): Added<A> => {
  const group = spec.groupOf(message)
  const previous = batches.get(group) ?? []
  const id = idText(spec.idOf(message))
  if (previous.some((p) => idText(spec.idOf(p)) === id)) {
    throw new RangeError(`canonical merge: duplicate id ${id} in group ${String(group)}`)
  }
  const items = [...previous, message]
  const expected = spec.expected(group)
  if (items.length > expected) {
    throw new RangeError(`canonical merge: group ${String(group)} got ${items.length} messages, expected ${expected}`)
  }
  const next = new Map(batches)
  if (items.length < expected) {
    const limit = spec.maxOpenGroups ?? 1024
    if (previous.length === 0 && batches.size >= limit) {
      throw new RangeError(`canonical merge: more than ${limit} incomplete groups (a lost message?)`)
    }
    next.set(group, items)
    return { batches: next, complete: undefined }
  }
  next.delete(group)
  return { batches: next, complete: sortByKey(items, spec.idOf) }
}
