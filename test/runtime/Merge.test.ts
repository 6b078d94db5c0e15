import { assert, describe, it } from "@effect/vitest"
import { fc } from "@fast-check/vitest"
import { hashValue } from "../../src/core/Hash.ts"
import * as Merge from "../../src/runtime/Merge.ts"

interface Msg {
  readonly step: number
  readonly from: string
  readonly id: number
}
const spec = (perStep: number): Merge.MergeSpec<Msg> => ({
  groupOf: (m) => m.step,
  idOf: (m) => [m.from, m.id],
  expected: () => perStep
})

const feed = (messages: ReadonlyArray<Msg>, perStep: number) => {
  let batches = Merge.emptyBatches<Msg>()
  const completed: Array<ReadonlyArray<Msg>> = []
  for (const m of messages) {
    const r = Merge.add(batches, spec(perStep), m)
    batches = r.batches
    if (r.complete !== undefined) completed.push(r.complete)
  }
  return { batches, completed }
}

describe("canonical merge", () => {
  it("any arrival order completes the same groups with the same contents", () => {
    const senders = ["verifier-0", "verifier-1", "verifier-2"]
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.func(fc.integer()),
        (steps, perSender, shuffleKey) => {
          const messages = Array.from({ length: steps }, (_, step) =>
            senders.flatMap((from) => Array.from({ length: perSender }, (_, id) => ({ step, from, id })))).flat()
          const perStep = senders.length * perSender
          // arrival order: any permutation (fast-check picks it), groups may interleave
          const arrival = messages.map((m, i) => ({ m, k: shuffleKey(i) })).sort((a, b) => a.k - b.k).map((x) => x.m)
          const a = feed(messages, perStep)
          const b = feed(arrival, perStep)
          const byStep = (xs: ReadonlyArray<ReadonlyArray<Msg>>) =>
            [...xs].sort((p, q) => p[0]!.step - q[0]!.step).map((g) => hashValue(g))
          assert.deepStrictEqual(byStep(b.completed), byStep(a.completed))
          assert.strictEqual(b.completed.length, steps)
          assert.strictEqual(b.batches.size, 0)
        }
      ),
      { numRuns: 200 }
    )
  })

  it("keeps incomplete groups buffered and rejects duplicates and overflow", () => {
    const s = spec(2)
    const one = Merge.add(Merge.emptyBatches<Msg>(), s, { step: 0, from: "a", id: 1 })
    assert.isUndefined(one.complete)
    assert.throws(() => Merge.add(one.batches, s, { step: 0, from: "a", id: 1 }), /duplicate id/)
    const two = Merge.add(one.batches, s, { step: 0, from: "a", id: 0 })
    assert.deepStrictEqual(two.complete?.map((m) => m.id), [0, 1])
    assert.throws(
      () => Merge.add(Merge.emptyBatches<Msg>(), { ...s, expected: () => 0 }, { step: 0, from: "a", id: 0 }),
      /expected 0/
    )
    let open = Merge.emptyBatches<Msg>()
    const bounded = { ...s, maxOpenGroups: 2 }
    open = Merge.add(open, bounded, { step: 0, from: "a", id: 0 }).batches
    open = Merge.add(open, bounded, { step: 1, from: "a", id: 0 }).batches
    assert.throws(() => Merge.add(open, bounded, { step: 2, from: "a", id: 0 }), /more than 2 incomplete groups/)
    assert.isDefined(Merge.add(open, bounded, { step: 1, from: "a", id: 1 }).complete)
  })
})
