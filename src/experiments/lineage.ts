/**
 * Writing a run's lineage.jsonl (format: src/report/lineageFile.ts), with the step-commit discipline of
 * metrics.jsonl: one record appended per step right after the step's metrics, through the durable file
 * layer; a resumed run first cuts the file back to its checkpoint (`truncateLineage`, a torn last line
 * dropped), so a crash anywhere leaves exactly one record per step once the run completes. A fork copies
 * its source's file and truncates it the same way on its first resume.
 *
 * A created item's sources are resolved to (step, policy version, reward) from the rollouts of the records
 * written so far (the kept ones on resume, then each step's), so a record stands alone.
 */
import { existsSync } from "node:fs"
import { join } from "node:path"
import type { StepLineage } from "../../actors/orchestrator/index.ts"
import { appendFileDurable, writeFileDurable } from "../core/durableFile.ts"
import { type ContextEntry, LINEAGE_FILE, type LineageRecord, lineageLine, readLineageFile, type SourceEntry } from "../report/lineageFile.ts"
import type { CreatedItem } from "./lineageCreated.ts"

type RolloutFacts = readonly [step: number, policyVersion: number, reward: number]

const indexRollouts = (into: Map<string, RolloutFacts>, r: LineageRecord): void => {
  for (const [id, , reward, , policyVersion] of r.contexts) into.set(id, [r.step, policyVersion, reward])
}

/** The step's record (pure): `rollouts` resolves created items' sources, and must hold this step's rollouts. */
export const lineageRecord = (
  step: number,
  l: StepLineage,
  created: ReadonlyArray<CreatedItem>,
  rollouts: ReadonlyMap<string, RolloutFacts>
): LineageRecord => {
  const items: Array<readonly [string, number]> = []
  const slot = new Map<string, number>()
  const contexts = l.rollouts.map((r): ContextEntry => {
    if (r.refs.length > 0 && l.read === null) throw new Error(`lineage: rollout ${r.id} names memory items but no memory was read (a bug)`)
    const refs = r.refs.map((id) => {
      let j = slot.get(id)
      if (j === undefined) {
        j = items.length
        slot.set(id, j)
        items.push([id, l.read!.seq])
      }
      return j
    })
    return [r.id, r.problemId, r.reward, r.solved ? 1 : 0, r.policyVersion, r.kind, refs]
  })
  const source = (id: string): SourceEntry => {
    const f = rollouts.get(id)
    return f === undefined ? [id, null, null, null] : [id, f[0], f[1], f[2]]
  }
  return {
    step, read: l.read === null ? null : [l.read.seq, l.read.id], items, contexts,
    created: created.map((c) => [c.id, c.kind, c.sources.map(source)] as const)
  }
}

/**
 * The records a resumed run keeps (step <= `upTo`), the file rewritten atomically to hold just them. A
 * torn last line (a crash mid-append) is dropped; any other damage is a LineageFileError naming the line.
 * No file (a run from before lineage was recorded): none kept, the run writes from here on.
 */
export const truncateLineage = (dir: string, upTo: number): Array<LineageRecord> => {
  const file = join(dir, LINEAGE_FILE)
  if (!existsSync(file)) return []
  const kept = readLineageFile(file, { dropTruncatedLastLine: true }).filter((r) => r.step <= upTo)
  writeFileDurable(file, kept.map((r) => `${lineageLine(r)}\n`).join(""))
  return kept
}

export interface LineageWriter {
  /** append the record of `step` (after its metrics row) */
  readonly append: (step: number, l: StepLineage, created: ReadonlyArray<CreatedItem>) => void
}

/** A writer continuing after `kept` (the records truncateLineage kept; none for a fresh run). */
export const lineageWriter = (dir: string, kept: ReadonlyArray<LineageRecord>): LineageWriter => {
  const rollouts = new Map<string, RolloutFacts>()
  for (const r of kept) indexRollouts(rollouts, r)
  const file = join(dir, LINEAGE_FILE)
  return {
    append: (step, l, created) => {
      for (const r of l.rollouts) rollouts.set(r.id, [step, r.policyVersion, r.reward])
      appendFileDurable(file, `${lineageLine(lineageRecord(step, l, created, rollouts))}\n`)
    }
  }
}

/** Where two lineages first differ (replay): the step and what differs, or undefined when they agree. */
export const firstLineageDifference = (
  expected: ReadonlyArray<LineageRecord>,
  got: ReadonlyArray<LineageRecord>
): { readonly step: number; readonly detail: string } | undefined => {
  const n = Math.max(expected.length, got.length)
  for (let i = 0; i < n; i++) {
    const a = expected[i]
    const b = got[i]
    if (a === undefined || b === undefined) {
      const at = (a ?? b)!
      return { step: at.step, detail: a === undefined ? `the re-run wrote a record for step ${at.step} that the run lacks` : `the run has a record for step ${at.step} that the re-run did not write` }
    }
    if (lineageLine(a) === lineageLine(b)) continue
    if (a.step !== b.step) return { step: Math.min(a.step, b.step), detail: `record ${i + 1} is for step ${a.step} in the run, ${b.step} in the re-run` }
    for (const field of ["read", "items", "contexts", "created"] as const) {
      const x = a[field]
      const y = b[field]
      if (JSON.stringify(x) === JSON.stringify(y)) continue
      if (x === null || y === null || !Array.isArray(x) || !Array.isArray(y)) return { step: a.step, detail: `${field}: expected ${JSON.stringify(x)}, got ${JSON.stringify(y)}` }
      const k = Array.from({ length: Math.max(x.length, y.length) }, (_, j) => j).find((j) => JSON.stringify(x[j]) !== JSON.stringify(y[j]))!
      return { step: a.step, detail: `${field}[${k}]: expected ${JSON.stringify(x[k]) ?? "nothing"}, got ${JSON.stringify(y[k]) ?? "nothing"}` }
    }
  }
  return undefined
}
