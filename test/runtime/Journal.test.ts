import { assert, describe, it } from "@effect/vitest"
import { fc } from "@fast-check/vitest"
import { Effect } from "effect"
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll } from "vitest"
import { encode } from "../../src/core/Codec.ts"
import { hashValue } from "../../src/core/Hash.ts"
import { type Journal, load, makeRecorder, type RecordInput, save } from "../../src/runtime/Journal.ts"

const dir = mkdtempSync(join(tmpdir(), "pmdsim-journal-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const entryInput = fc.record({
  step: fc.nat({ max: 50 }),
  kind: fc.constantFrom("message" as const, "state" as const, "restart" as const, "checkpoint" as const),
  actor: fc.constantFrom("producer", "collector", "worker-0", "ünïcode"),
  value: fc.jsonValue()
})

const recordAll = (inputs: ReadonlyArray<RecordInput>) =>
  Effect.gen(function*() {
    const recorder = yield* makeRecorder
    for (const input of inputs) yield* recorder.record(input)
    return yield* recorder.journal
  })

const sampleJournal = (): Journal =>
  Effect.runSync(recordAll([
    { step: 0, kind: "message", actor: "a", value: [1, 2] },
    { step: 0, kind: "state", actor: "a", value: { n: 3 } },
    { step: 1, kind: "state", actor: "a", value: { n: 4 } }
  ]))

const loadError = (file: string) => Effect.runPromise(load(file).pipe(Effect.flip))

describe("journal", () => {
  it("save/load round-trips any journal", async () => {
    let i = 0
    await fc.assert(
      fc.asyncProperty(fc.array(entryInput, { maxLength: 40 }), async (inputs) => {
        const journal = Effect.runSync(recordAll(inputs))
        const file = join(dir, `rt-${i++}.journal`)
        await Effect.runPromise(save(file, journal))
        const back = await Effect.runPromise(load(file))
        assert.deepStrictEqual(back, journal)
      }),
      { numRuns: 30 }
    )
    // atomic write leaves no temp files behind
    assert.deepStrictEqual(readdirSync(dir).filter((f) => f.endsWith(".tmp")), [])
  })

  it("canonical order does not depend on which actor recorded first", () => {
    fc.assert(
      fc.property(fc.array(entryInput, { maxLength: 30 }), fc.integer(), (inputs, shuffleSeed) => {
        // interleave the per-actor streams differently: each actor's own order is kept
        const byActor = new Map<string, Array<typeof inputs[number]>>()
        for (const x of inputs) byActor.set(x.actor, [...(byActor.get(x.actor) ?? []), x])
        const streams = [...byActor.values()]
        const interleaved: typeof inputs = []
        let s = shuffleSeed
        while (streams.some((q) => q.length > 0)) {
          const live = streams.filter((q) => q.length > 0)
          s = (s * 1103515245 + 12345) | 0
          interleaved.push(live[Math.abs(s) % live.length]!.shift()!)
        }
        assert.deepStrictEqual(Effect.runSync(recordAll(interleaved)), Effect.runSync(recordAll(inputs)))
      }),
      { numRuns: 100 }
    )
  })

  it("rejects a truncated file with JournalFileError naming the file", async () => {
    const file = join(dir, "truncated.journal")
    await Effect.runPromise(save(file, sampleJournal()))
    const bytes = readFileSync(file)
    for (const cut of [1, 7, Math.floor(bytes.length / 2), bytes.length - 1]) {
      writeFileSync(file, bytes.subarray(0, cut))
      const err = await loadError(file)
      assert.strictEqual(err._tag, "JournalFileError")
      assert.strictEqual(err.file, file)
    }
  })

  it("rejects a flipped digest byte by its checksum", async () => {
    const file = join(dir, "flipped.journal")
    const journal = sampleJournal()
    await Effect.runPromise(save(file, journal))
    const bytes = Buffer.from(readFileSync(file))
    const at = bytes.indexOf(journal.entries.at(-1)!.digest, 0, "latin1") + 5 // inside the last digest's hex
    assert.isTrue(at > 5)
    bytes[at] = bytes[at] === 0x61 ? 0x62 : 0x61
    writeFileSync(file, bytes)
    const err = await loadError(file)
    assert.match(err.problem, /checksum mismatch/)
  })

  it("rejects files that are not journals, with the problem named", async () => {
    const cases: Array<[string, Uint8Array | string, RegExp]> = [
      ["empty.journal", new Uint8Array(), /empty file/],
      ["garbage.journal", "hello, world: not msgpack at all", /not a (msgpack|pmdsim) journal/],
      ["other.journal", encode({ format: "something-else", entries: [] }), /not a pmdsim journal/],
      [
        "bad-entry.journal",
        encode({ format: "pmdsim/journal", version: 1, checksum: hashValue([]), entries: [{ step: -1 }] }),
        /not a pmdsim journal/
      ]
    ]
    for (const [name, bytes, problem] of cases) {
      const file = join(dir, name)
      writeFileSync(file, bytes)
      const err = await loadError(file)
      assert.strictEqual(err.file, file)
      assert.match(err.problem, problem, name)
    }
    assert.match((await loadError(join(dir, "missing.journal"))).problem, /read failed/)
  })
})
