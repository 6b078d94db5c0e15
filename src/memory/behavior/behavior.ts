/**
 * Behavior memory: one global bank of reusable skills and mistakes to avoid (PMD §3, M_beh), and the
 * explicit edits that change it. Pure data; the consolidator (consolidate.ts) decides the edits and
 * Memp bookkeeping (src/memory/memp/) counts hits and successes.
 */
import { hashValue, shortHash } from "../../core/Hash.ts"
import type { Embedder } from "../embed/hashEmbed.ts"
import type { Sources } from "../types.ts"

export type BehaviorKind = "skill" | "avoid"

export interface Behavior {
  /** Content id: hash of (kind, tokens). */
  readonly id: string
  readonly kind: BehaviorKind
  /** The sub-procedure (skill) or the pattern to avoid, as tokens. */
  readonly tokens: ReadonlyArray<number>
  /** Training problems whose insights contain the pattern (sorted). Only grows. */
  readonly problemIds: ReadonlyArray<string>
  /** = problemIds.length (monotone). */
  readonly support: number
  /** Memp bookkeeping: times retrieved as top-1 and used; times that use succeeded. Monotone. */
  readonly hits: number
  readonly successes: number
  readonly sources: Sources
  /** Retrieval key: the normalised mean embedding of the supporting problems. */
  readonly key: Float32Array
  /** Cluster (leader problem id) it was first abstracted from. */
  readonly cluster: string
}

export interface BehaviorBank {
  /** Sorted by id. */
  readonly behaviors: ReadonlyArray<Behavior>
  /** Content keys of deprecated behaviors: never re-created (sorted). */
  readonly retired: ReadonlyArray<string>
}

export type RemoveReason = "deprecated" | "contradicted" | "capacity"

export type BehaviorEdit =
  | { readonly op: "new"; readonly behavior: Behavior }
  | { readonly op: "update"; readonly before: Behavior; readonly after: Behavior }
  | { readonly op: "remove"; readonly behavior: Behavior; readonly reason: RemoveReason }

export const emptyBank: BehaviorBank = { behaviors: [], retired: [] }

export const contentKey = (kind: BehaviorKind, tokens: ReadonlyArray<number>): string => `${kind}:${tokens.join(",")}`

export const behaviorId = (kind: BehaviorKind, tokens: ReadonlyArray<number>): string =>
  `beh-${shortHash(hashValue([kind, tokens]))}`

/** Kind tag prepended before embedding content, so a skill and an avoid with equal tokens differ. */
const KIND_TAG: Record<BehaviorKind, number> = { skill: 7, avoid: 12 }

/** Embedding of a behavior's content (for the near-duplicate rule). */
export const contentVector = (embed: Embedder, kind: BehaviorKind, tokens: ReadonlyArray<number>): Float32Array =>
  embed([KIND_TAG[kind], ...tokens])

/** Memp deprecation rule (MemP memory.py): hits >= 3 and successes / hits < 0.5. */
export const isDeprecated = (b: { readonly hits: number; readonly successes: number }, minHits = 3, minRate = 0.5): boolean =>
  b.hits >= minHits && b.successes / b.hits < minRate
