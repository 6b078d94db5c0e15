/**
 * Recording rollouts.jsonl during a run (format: rolloutsFile.ts), with the step-commit discipline of
 * metrics.jsonl and lineage.jsonl: the step's memory call is captured where it leaves the loop (a tap on
 * the `remember` / `freezeMemory` ports, so the record is exactly what the memory actor received), one line
 * is appended per step after the step's lineage through the durable file layer, a resumed run first cuts the
 * file back to its checkpoint (`truncateRollouts`, a torn last line dropped), and a fork copies its source's
 * file and is cut back the same way on its first resume. Nothing here reaches a hash.
 */
import { Effect } from "effect"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import type { Ports } from "../../../actors/orchestrator/index.ts"
import { appendFileDurable, writeFileDurable } from "../../core/durableFile.ts"
import type { MemoryCall } from "./memoryCall.ts"
import { attemptIndex, type AttemptIndex, parseRollouts, ROLLOUTS_FILE, rolloutsLine, type RolloutsRecord } from "./rolloutsFile.ts"

export interface MemoryTap {
  /** the ports with `remember` and `freezeMemory` recorded */
  readonly ports: Ports
  /** the memory call of the step just run (null: none), and forget it */
  readonly take: () => MemoryCall | null
}

/** Wraps the ports so that the step's memory call is kept as sent (the reply is passed through untouched). */
export const tapMemoryCalls = (ports: Ports): MemoryTap => {
  let calls: Array<MemoryCall> = []
  return {
    ports: {
      ...ports,
      remember: (request) => Effect.suspend(() => {
        calls.push({ _tag: "Remember", request })
        return ports.remember(request)
      }),
      freezeMemory: Effect.suspend(() => {
        calls.push({ _tag: "Freeze" })
        return ports.freezeMemory
      })
    },
    take: () => {
      const taken = calls
      calls = []
      if (taken.length > 1) throw new Error(`rollouts.jsonl: a step made ${taken.length} memory calls, one expected (a bug)`)
      return taken[0] ?? null
    }
  }
}

/**
 * The records a resumed run keeps (step <= `upTo`), the file rewritten atomically to hold just them, each
 * line byte for byte as written (JSON.stringify of its parsed value gives back its bytes). A torn last line
 * is dropped; any other damage is a RolloutsFileError naming the line. No file (a run from before the file
 * existed): none kept, the run records from here on.
 */
export const truncateRollouts = (dir: string, upTo: number): Array<RolloutsRecord> => {
  const file = join(dir, ROLLOUTS_FILE)
  if (!existsSync(file)) return []
  const kept = parseRollouts(readFileSync(file, "utf8"), file, { dropTruncatedLastLine: true }).filter((x) => x.record.step <= upTo)
  writeFileDurable(file, kept.map((x) => `${JSON.stringify(x.value)}\n`).join(""))
  return kept.map((x) => x.record)
}

export interface RolloutsWriter {
  /** append the record of `step` (after its lineage record) */
  readonly append: (step: number, call: MemoryCall | null) => void
}

/** A writer continuing after `kept` (the records truncateRollouts kept; none for a fresh run). */
export const rolloutsWriter = (dir: string, kept: ReadonlyArray<RolloutsRecord>): RolloutsWriter => {
  const file = join(dir, ROLLOUTS_FILE)
  let previous: AttemptIndex = attemptIndex(kept.at(-1)?.call ?? null)
  return {
    append: (step, call) => {
      appendFileDurable(file, `${rolloutsLine(step, call, previous)}\n`)
      previous = attemptIndex(call)
    }
  }
}
