/**
 * Reflector / consolidator quality against the domain's ground truth: each training problem's cluster
 * and, in the code domain, the cluster's 2-op skill. Reported, never hashed (the journal records the
 * accuracies only, the state hash the step's metrics, not its diagnostics).
 * - At each evaluation (src/memory/quality.ts): the whole memory, on the internalization row (`EvalRow.reflector`).
 * - At each step (src/memory/stepQuality.ts): what this step's reflection and consolidation wrote, in the
 *   train row's `diagnostics` (`quality.*`), through `diagnostics(teacherDiagnostics, memoryAfterTheStep)`.
 */
import type { RunConfig } from "../config/RunConfig.ts"
import type { Domain, ProblemBase } from "../domains/Domain.ts"
import { type GroundTruth, reflectorQuality } from "../memory/quality.ts"
import type { MemoryState } from "../memory/state.ts"
import { stepQuality } from "../memory/stepQuality.ts"
import type { VersionedMemory } from "../memory/versioned.ts"
import { usesMemory } from "../../actors/orchestrator/index.ts"
import type { EvalRow } from "../protocol/metrics.ts"

const skillOf = (p: ProblemBase): ReadonlyArray<number> | null =>
  "skill" in p && Array.isArray((p as { skill?: unknown }).skill) ? (p as unknown as { skill: ReadonlyArray<number> }).skill : null

type Diagnostics = Readonly<Record<string, number | null>> | undefined

export interface MemoryQuality {
  /** Adds `reflector` to the internalization row of an evaluation (identity for methods without memory). */
  (rows: ReadonlyArray<EvalRow>): ReadonlyArray<EvalRow>
  /**
   * The train row's diagnostics field with this step's `quality.*` figures added (the memory before the
   * step is the one the previous call saw; the first call compares against the memory at construction).
   * `{}` where there is nothing to report (no teacher diagnostics and no memory).
   */
  diagnostics(teacher: Diagnostics, after: MemoryState): { readonly diagnostics?: Readonly<Record<string, number | null>> }
}

export const memoryQuality = (cfg: RunConfig, domain: Domain<ProblemBase>, vm: VersionedMemory): MemoryQuality => {
  const plain = (d: Diagnostics) => (d === undefined ? {} : { diagnostics: d })
  if (!usesMemory(cfg)) return Object.assign((rows: ReadonlyArray<EvalRow>) => rows, { diagnostics: plain })
  const truth = new Map<string, GroundTruth>(domain.problems("train").map((p) => [p.id, { cluster: p.cluster, skill: skillOf(p) }]))
  let before = vm.state
  return Object.assign(
    (rows: ReadonlyArray<EvalRow>): ReadonlyArray<EvalRow> => {
      const q = reflectorQuality(vm.state, (id) => truth.get(id))
      return rows.map((r) => (r.protocol === "internalization" ? { ...r, reflector: q } : r))
    },
    {
      diagnostics: (d: Diagnostics, after: MemoryState) => {
        const q = stepQuality(before, after, truth)
        before = after
        return { diagnostics: { ...d, ...q } }
      }
    }
  )
}
