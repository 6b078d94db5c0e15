/**
 * Reflector / consolidator quality at each evaluation (src/memory/quality.ts), against the domain's
 * ground truth: each training problem's cluster and, in the code domain, the cluster's 2-op skill. It
 * rides on the internalization row (`EvalRow.reflector`) of runs that keep memory; it is reported, never
 * hashed (the journal records the accuracies only).
 */
import type { RunConfig } from "../config/RunConfig.ts"
import type { Domain, ProblemBase } from "../domains/Domain.ts"
import { type GroundTruth, reflectorQuality } from "../memory/quality.ts"
import type { VersionedMemory } from "../memory/versioned.ts"
import { usesMemory } from "../../actors/orchestrator/step.ts"
import type { EvalRow } from "../protocol/metrics.ts"

const skillOf = (p: ProblemBase): ReadonlyArray<number> | null =>
  "skill" in p && Array.isArray((p as { skill?: unknown }).skill) ? (p as unknown as { skill: ReadonlyArray<number> }).skill : null

/** Adds `reflector` to the internalization row of an evaluation (identity for methods without memory). */
export const memoryQuality = (cfg: RunConfig, domain: Domain<ProblemBase>, vm: VersionedMemory) => {
  if (!usesMemory(cfg)) return (rows: ReadonlyArray<EvalRow>): ReadonlyArray<EvalRow> => rows
  const truth = new Map<string, GroundTruth>(domain.problems("train").map((p) => [p.id, { cluster: p.cluster, skill: skillOf(p) }]))
  return (rows: ReadonlyArray<EvalRow>): ReadonlyArray<EvalRow> => {
    const q = reflectorQuality(vm.state, (id) => truth.get(id))
    return rows.map((r) => (r.protocol === "internalization" ? { ...r, reflector: q } : r))
  }
}
