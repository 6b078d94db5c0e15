/**
 * Deterministic clustering of problem embeddings (PMD §3: "questions are clustered by embedding
 * similarity"; the paper names no algorithm).
 *
 * Leader clustering in canonical id order, then one reassignment pass:
 * 1. walk problems by id; a problem whose best cosine to the existing leaders is below `threshold`
 *    (and while fewer than `maxClusters` leaders exist) becomes a new leader;
 * 2. every problem (leaders included) joins its most similar leader (ties: smallest leader id).
 * The result depends only on the set of (id, vector) pairs, never on input order; cost O(n * k * dim)
 * for k leaders. A cluster is named by its leader's problem id.
 */
import { compareStrings } from "../../core/Order.ts"
import { dot } from "../embed/vec.ts"
import { MemoryInputError } from "../types.ts"

export interface ClusterConfig {
  /** Cosine below which a problem starts a new cluster. */
  readonly threshold: number
  readonly maxClusters: number
}

export const defaultClusterConfig: ClusterConfig = { threshold: 0.6, maxClusters: 256 }

export interface Clustering {
  /** Cluster key (= leader problem id) per problem id. */
  readonly assignment: ReadonlyMap<string, string>
  /** Member problem ids per cluster key, both sorted. */
  readonly clusters: ReadonlyArray<{ readonly key: string; readonly members: ReadonlyArray<string> }>
}

export const clusterProblems = (
  points: ReadonlyArray<{ readonly id: string; readonly vec: Float32Array }>,
  config: ClusterConfig = defaultClusterConfig
): Clustering => {
  if (!(config.maxClusters >= 1)) throw new MemoryInputError(`maxClusters must be >= 1, got ${config.maxClusters}`)
  const sorted = [...points].sort((a, b) => compareStrings(a.id, b.id))
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.id === sorted[i - 1]!.id) throw new MemoryInputError(`problem ${sorted[i]!.id} given twice to clustering`)
  }
  const leaders: Array<{ id: string; vec: Float32Array }> = []
  const nearest = (v: Float32Array): { idx: number; sim: number } => {
    let idx = -1
    let sim = -Infinity
    for (let j = 0; j < leaders.length; j++) {
      const s = dot(leaders[j]!.vec, v)
      if (s > sim) {
        sim = s
        idx = j
      }
    }
    return { idx, sim }
  }
  for (const p of sorted) {
    const { sim } = nearest(p.vec)
    if (leaders.length === 0 || (sim < config.threshold && leaders.length < config.maxClusters)) leaders.push(p)
  }
  // leaders were pushed in id order, so "first max" in nearest() is the smallest leader id on ties
  const assignment = new Map<string, string>()
  const members = new Map<string, Array<string>>()
  for (const p of sorted) {
    const key = leaders[nearest(p.vec).idx]!.id
    assignment.set(p.id, key)
    const m = members.get(key)
    if (m) m.push(p.id)
    else members.set(key, [p.id])
  }
  const clusters = [...members.entries()].sort((a, b) => compareStrings(a[0], b[0])).map(([key, ms]) => ({ key, members: ms }))
  return { assignment, clusters }
}
