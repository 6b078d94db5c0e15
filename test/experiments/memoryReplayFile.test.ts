/**
 * rollouts.jsonl's format (src/experiments/memoryReplay/rolloutsFile.ts): a step's memory call survives the
 * line exactly (outcomes written as references to the previous line's rollouts come back whole, a full
 * outcome too); the bytes depend on the record alone; a torn last line is dropped only when asked; damage
 * names the file and line.
 */
import { describe, expect, it } from "vitest"
import type { MemoryCall } from "../../src/experiments/memoryReplay/memoryCall.ts"
import { attemptIndex, parseRollouts, rolloutsLine } from "../../src/experiments/memoryReplay/rolloutsFile.ts"

const prov = (id: string, step: number, reward: number) => ({ rolloutId: id, policyVersion: step, step, reward })
const remember = (step: number, outcomes: Extract<MemoryCall, { _tag: "Remember" }>["request"]["outcomes"]): MemoryCall => ({
  _tag: "Remember",
  request: {
    step, policyVersion: step, consolidate: step % 2 === 1, fresh: false, outcomes,
    groups: [
      { problemId: "p1", attempts: [{ response: [40, 41, 2], feedback: [9, 17], success: false, prov: prov(`s${step}/p1/r0`, step, 0.25) }, { response: [42, 2], feedback: [], success: true, prov: prov(`s${step}/p1/r1`, step, 1) }] },
      // a token past one byte: written as a JSON array
      { problemId: "p0", attempts: [{ response: [300, 2], feedback: [], success: false, prov: prov(`s${step}/p0/r0`, step, 0) }] }
    ]
  }
})

const step0 = remember(0, [])
const step1 = remember(1, [
  { problemId: "p1", query: [4, 5], response: [40, 41, 2], success: false, prov: prov("s0/p1/r0", 0, 0.25) },
  { problemId: "p1", query: [4, 5], response: [42, 2], success: true, prov: prov("s0/p1/r1", 0, 1), usedId: "beh-1", behaviorId: "beh-1" },
  // not the previous line's rollout as recorded (another response): written in full
  { problemId: "p0", query: [6], response: [7, 2], success: false, prov: prov("s0/p0/r0", 0, 0), usedId: "memp-x" }
])

describe("rollouts.jsonl", () => {
  const l1 = rolloutsLine(1, step0, new Map())
  const l2 = rolloutsLine(2, step1, attemptIndex(step0))
  const l3 = rolloutsLine(3, { _tag: "Freeze" }, attemptIndex(step1))
  const l4 = rolloutsLine(4, null, new Map())
  const text = [l1, l2, l3, l4].map((l) => `${l}\n`).join("")

  it("gives back every call exactly, references resolved", () => {
    const got = parseRollouts(text, "f").map((x) => x.record)
    expect(got).toEqual([{ step: 1, call: step0 }, { step: 2, call: step1 }, { step: 3, call: { _tag: "Freeze" } }, { step: 4, call: null }])
    // the references are references (smaller than a copy), the changed outcome is a full object
    const outcomes = (JSON.parse(l2) as { outcomes: Array<unknown> }).outcomes
    expect(outcomes[0]).toBe("s0/p1/r0")
    expect(outcomes[1]).toEqual(["s0/p1/r1", "beh-1"])
    expect(outcomes[2]).toMatchObject({ problemId: "p0", usedId: "memp-x" })
    // each line's bytes come back from its parsed value (what a resume rewrites)
    expect(parseRollouts(text, "f").map((x) => JSON.stringify(x.value))).toEqual([l1, l2, l3, l4])
  })

  it("drops a torn last line only when asked, and names the line of any damage", () => {
    const torn = `${l1}\n${l2.slice(0, 40)}`
    expect(parseRollouts(torn, "f", { dropTruncatedLastLine: true }).map((x) => x.record.step)).toEqual([1])
    expect(() => parseRollouts(torn, "f")).toThrow(/f: line 2: truncated or damaged/)
    expect(() => parseRollouts(`${l1}\n{"step":2,"call":"remember"}\n`, "f")).toThrow(/f: line 2: at must be \[step, policyVersion\]/)
    expect(() => parseRollouts(`${l2}\n`, "f")).toThrow(/line 1: outcomes\[0\]: rollout s0\/p1\/r0 is not in the previous line/)
    expect(() => parseRollouts(`${l1}\n${l1}\n`, "f")).toThrow(/line 2: step 1 after step 1/)
  })
})
