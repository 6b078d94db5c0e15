/**
 * Actor kernel overheads (src/runtime/Actor.ts), each against a baseline measured in the same run:
 *  1. ask/reply round trip to an echo actor vs a direct function call (and vs the same call as an Effect)
 *  2. messages/s through a chain of 5 actors (tell -> tell -> ...) vs a direct loop through 5 functions
 * The ask timeout races a Clock sleep per ask, which costs more than the mailbox itself; hot paths
 * that are guarded otherwise (ActorSystem.supervise) can set `askTimeout: "Infinity"`.
 * Run: node_modules/.bin/node bench/runtime/mailbox.bench.ts   (or npm run bench runtime)
 */
import { Deferred, Effect } from "effect"
import * as ActorSystem from "../../src/runtime/ActorSystem.ts"

const ASKS = 20_000
const CHAIN_MSGS = 50_000
const REPEATS = 3

const time = async (f: () => Promise<unknown> | unknown): Promise<number> => {
  const t0 = performance.now()
  await f()
  return performance.now() - t0
}
const best = async (f: () => Promise<unknown> | unknown): Promise<number> => {
  await f() // warm-up
  let min = Infinity
  for (let i = 0; i < REPEATS; i++) min = Math.min(min, await time(f))
  return min
}

// a stage's work: small enough that the kernel overhead dominates
const stage = (x: number): number => (x * 31 + 7) % 1_000_003
let sink = 0

const directCalls = () => {
  for (let i = 0; i < ASKS; i++) sink += stage(i)
}
const effectCalls = () =>
  Effect.runPromise(Effect.gen(function*() {
    for (let i = 0; i < ASKS; i++) sink += yield* Effect.sync(() => stage(i))
  }))
const actorAsks = (askTimeout: "5 minutes" | "Infinity") => () =>
  Effect.runPromise(ActorSystem.run(Effect.gen(function*() {
    const echo = yield* ActorSystem.spawn({
      name: "echo",
      initial: 0,
      askTimeout,
      handle: (n: number, x: number) => Effect.succeed([n + 1, stage(x)] as const)
    })
    for (let i = 0; i < ASKS; i++) sink += yield* echo.ask(i)
  })))

const directChain = () => {
  for (let i = 0; i < CHAIN_MSGS; i++) sink += stage(stage(stage(stage(stage(i)))))
}
const actorChain = () =>
  Effect.runPromise(ActorSystem.run(Effect.gen(function*() {
    const done = yield* Deferred.make<number>()
    const last = yield* ActorSystem.spawn({
      name: "stage-4",
      initial: 0,
      handle: (n: number, x: number) =>
        Effect.gen(function*() {
          sink += stage(x)
          if (n + 1 === CHAIN_MSGS) yield* Deferred.succeed(done, n + 1)
          return [n + 1, undefined] as const
        })
    })
    let next: (x: number) => Effect.Effect<void, unknown> = last.tell
    for (let k = 3; k >= 0; k--) {
      const to = next
      const ref = yield* ActorSystem.spawn({
        name: `stage-${k}`,
        initial: 0,
        handle: (n: number, x: number) => to(stage(x)).pipe(Effect.as([n + 1, undefined] as const))
      })
      next = ref.tell
    }
    for (let i = 0; i < CHAIN_MSGS; i++) yield* next(i)
    yield* Deferred.await(done)
  })))

const rows: Array<[string, number, number, string]> = []
const add = (name: string, ms: number, ops: number, baselineMs: number) =>
  rows.push([name, ms, ops / (ms / 1000), `${(ms / baselineMs).toFixed(1)}x`])

const tDirect = await best(directCalls)
const tEffect = await best(effectCalls)
const tAsk = await best(actorAsks("5 minutes"))
const tAskNoTimeout = await best(actorAsks("Infinity"))
add("direct call (baseline)", tDirect, ASKS, tDirect)
add("Effect.sync call", tEffect, ASKS, tDirect)
add("actor ask/reply (with timeout)", tAsk, ASKS, tDirect)
add("actor ask/reply (askTimeout Infinity)", tAskNoTimeout, ASKS, tDirect)
const tLoop = await best(directChain)
const tChain = await best(actorChain)
add("5 functions, direct loop (baseline)", tLoop, CHAIN_MSGS, tLoop)
add("chain of 5 actors (tell)", tChain, CHAIN_MSGS, tLoop)

console.log(`node ${process.version}, ${ASKS} asks, ${CHAIN_MSGS} chain messages, best of ${REPEATS}`)
console.log(`${"case".padEnd(38)} ${"total ms".padStart(10)} ${"ops/s".padStart(14)} ${"vs baseline".padStart(12)}`)
for (const [name, ms, opsPerSec, ratio] of rows) {
  console.log(
    `${name.padEnd(38)} ${ms.toFixed(2).padStart(10)} ${Math.round(opsPerSec).toLocaleString("en").padStart(14)} ${
      ratio.padStart(12)
    }`
  )
}
const micros = (ms: number, n: number) => ((ms / n) * 1000).toFixed(2)
console.log(`per ask: ${micros(tAsk, ASKS)} µs (${micros(tAskNoTimeout, ASKS)} µs without the timeout timer); ` +
  `per message per actor hop: ${micros(tChain, CHAIN_MSGS * 5)} µs`)
if (sink === 0.5) console.log("") // keep `sink` observable so no loop is optimised away
