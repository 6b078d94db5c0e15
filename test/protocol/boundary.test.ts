/**
 * Every message and reply that crosses an actor boundary in a tiny run is data: it decodes with its
 * actor's protocol schema (src/protocol/<actor>.ts, no field outside it), encodes back to itself, and
 * round-trips through the canonical codec (src/core/Codec.ts), which refuses functions and class
 * instances. That is what lets an actor move to a worker thread or another machine unchanged
 * (ARCHITECTURE §4). The messages are captured by a MessageTap (src/runtime/Tap.ts) as each actor handles them.
 */
import { Effect, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { canonical, decode, encode } from "../../src/core/Codec.ts"
import { ConsolidatorIn, ConsolidatorOut } from "../../src/protocol/consolidator.ts"
import { MemoryIn, MemoryOut } from "../../src/protocol/memory.ts"
import { PolicyIn, PolicyOut } from "../../src/protocol/policy.ts"
import { ReflectorIn, ReflectorOut } from "../../src/protocol/reflector.ts"
import { TeacherIn, TeachReply } from "../../src/protocol/teacher.ts"
import { VerifierIn, VerifierOut } from "../../src/protocol/verifier.ts"
import { MessageTap, tapBuffer, type TappedMessage } from "../../src/runtime/Tap.ts"
import { runTraining } from "../../src/experiments/run.ts"
import { freshDir, tinyConfig } from "../experiments/helpers.ts"

/** Each actor of a run: the schema of its inbox and of its replies. */
const PROTOCOLS: Readonly<Record<string, { readonly inbox: Schema.Codec<unknown, unknown>; readonly reply: Schema.Codec<unknown, unknown> }>> = {
  policy: { inbox: PolicyIn as never, reply: PolicyOut as never },
  memory: { inbox: MemoryIn as never, reply: MemoryOut as never },
  teacher: { inbox: TeacherIn as never, reply: TeachReply as never },
  verifier: { inbox: VerifierIn as never, reply: VerifierOut as never },
  reflector: { inbox: ReflectorIn as never, reply: ReflectorOut as never },
  consolidator: { inbox: ConsolidatorIn as never, reply: ConsolidatorOut as never }
}

const strict = { onExcessProperty: "error" } as const

/** Throws (with the actor and the problem) unless `value` is data its schema describes exactly. */
const checkCrossing = (actor: string, what: "message" | "reply", schema: Schema.Codec<unknown, unknown>, value: unknown): void => {
  const where = `${actor} ${what} ${(value as { _tag?: string })?._tag ?? ""}`
  // the canonical codec refuses a function, a symbol, a cycle or a class instance anywhere inside
  let bytes: Uint8Array
  try {
    bytes = encode(value)
  } catch (e) {
    throw new Error(`${where}: not data: ${(e as Error).message}`)
  }
  expect(decode(bytes), `${where}: canonical codec round trip`).toEqual(canonical(value))
  let decoded: unknown
  try {
    decoded = Schema.decodeUnknownSync(schema)(value, strict)
  } catch (e) {
    throw new Error(`${where}: does not match its protocol schema: ${(e as Error).message}`)
  }
  expect(decoded, `${where}: schema decode`).toEqual(value)
  expect(Schema.encodeSync(schema)(decoded), `${where}: schema encode`).toEqual(value)
}

const checkAll = (handled: ReadonlyArray<TappedMessage>): void => {
  for (const h of handled) {
    const p = PROTOCOLS[h.actor]
    if (p === undefined) throw new Error(`actor ${h.actor} has no protocol in this test`)
    checkCrossing(h.actor, "message", p.inbox, h.msg)
    checkCrossing(h.actor, "reply", p.reply, h.reply)
  }
}

/** A tiny run through the actors, every handled message captured (the tap is in context when they start). */
const tapped = async (sets: ReadonlyArray<string>) => {
  const { tap, handled } = tapBuffer()
  const run = runTraining({ cfg: tinyConfig(["steps=3", ...sets]), dir: freshDir("tap"), resume: false })
  const summary = await Effect.runPromise(run.pipe(Effect.provideService(MessageTap, tap)))
  return { handled, summary }
}

describe("what crosses actor boundaries is data (issue #15)", () => {
  it("the check refuses a closure, a class instance and a field outside the schema", () => {
    const read = { seq: 1, id: "v1" }
    expect(() => checkCrossing("memory", "reply", PROTOCOLS.memory!.reply, { _tag: "Read", read })).not.toThrow()
    // a checkpoint goes back into the memory by message (a resume's Restore): data too
    expect(() => checkCrossing("memory", "message", PROTOCOLS.memory!.inbox, { _tag: "Restore", restore: { frozen: true, memp: { items: [] } } })).not.toThrow()
    expect(() => checkCrossing("memory", "message", PROTOCOLS.memory!.inbox, { _tag: "Restore", restore: { frozen: true } })).toThrow(/protocol schema/)
    // the old MemoryRead carried a closure over the live keeper
    expect(() => checkCrossing("memory", "reply", PROTOCOLS.memory!.reply, { _tag: "Read", read: { ...read, viewOf: () => ({}) } })).toThrow(/not data/)
    class Keeper { readonly seq = 1 }
    expect(() => checkCrossing("memory", "reply", PROTOCOLS.memory!.reply, { _tag: "Read", read: new Keeper() })).toThrow(/not data/)
    expect(() => checkCrossing("memory", "reply", PROTOCOLS.memory!.reply, { _tag: "Read", read: { ...read, extra: 1 } })).toThrow(/protocol schema/)
    expect(() => checkCrossing("policy", "message", PROTOCOLS.policy!.inbox, { _tag: "Sample", requests: [], maxNewTokens: 4, lag: -1, greedy: false })).toThrow(/protocol schema/)
  })

  it("a tiny PMD run (EIB, consolidation, solution replay): every message and reply of every actor", async () => {
    const { handled, summary } = await tapped(["memory.levels=\"EIB\"", "memory.replaySolutions=true"])
    expect(summary.halted).toBe(false)
    const actors = new Set(handled.map((h) => h.actor))
    expect([...actors].sort()).toEqual(["consolidator", "memory", "policy", "reflector", "teacher", "verifier"])
    // the memory's reads, views and exports are among them (the replies that used to carry a closure and the live keeper)
    const memoryTags = new Set(handled.filter((h) => h.actor === "memory").map((h) => (h.msg as { _tag: string })._tag))
    expect([...memoryTags].sort()).toEqual(["Export", "Read", "Remember", "Views"])
    checkAll(handled)
  })

  it("a tiny run with a Memp store (its items travel in the memory's snapshot)", async () => {
    const { handled } = await tapped(["memory.levels=\"EIB\"", "memory.update=\"vanilla\"", "memory.lag=1"])
    const snapshot = handled.filter((h) => h.actor === "memory" && (h.reply as { _tag: string })._tag === "Snapshot").at(-1)!
    expect((snapshot.reply as { snapshot: { memp: { items: ReadonlyArray<unknown> } } }).snapshot.memp.items.length).toBeGreaterThan(0)
    checkAll(handled)
  })
})
