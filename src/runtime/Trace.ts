/**
 * What ran when: an optional sink for timed slices (one per handled actor message, one per training step
 * and evaluation), written as a Chrome trace-event file (`trace.json`, opens in Perfetto or
 * chrome://tracing). Times come from Effect's Clock and are for reading only: they never reach a hash,
 * a metric or a decision, so a traced run is bit-identical to an untraced one.
 *
 * The kernel (Actor.ts) looks the sink up once when an actor starts; without one, nothing is timed.
 */
import { Clock, Context, Effect, Option } from "effect"

/** One timed slice on a track (an actor, a worker, the run loop). */
export interface TraceSlice {
  readonly track: string
  readonly name: string
  /** start and duration in microseconds (Clock time) */
  readonly startUs: number
  readonly durUs: number
  /** e.g. the step, policy and memory versions of the message (numbers and short strings only) */
  readonly args: Readonly<Record<string, number | string>>
}

export class TraceSink extends Context.Service<TraceSink, { readonly record: (slice: TraceSlice) => void }>()("pmdsim/runtime/TraceSink") {}

/** A sink that keeps its slices in memory, in arrival order. */
export const traceBuffer = (): { readonly sink: TraceSink["Service"]; readonly slices: ReadonlyArray<TraceSlice> } => {
  const slices: Array<TraceSlice> = []
  return { sink: { record: (s) => slices.push(s) }, slices }
}

const nowUs = Effect.map(Clock.currentTimeNanos, (ns) => Number(ns / 1000n))

/** Runs `effect`, recording a slice for it when a sink is provided; `args` may read the result. */
export const traced = <A, E, R>(
  track: string,
  name: string,
  effect: Effect.Effect<A, E, R>,
  args: (result: A) => Readonly<Record<string, number | string>> = () => ({})
): Effect.Effect<A, E, R> =>
  Effect.flatMap(Effect.serviceOption(TraceSink), (sink) =>
    Option.isNone(sink)
      ? effect
      : Effect.gen(function*() {
        const start = yield* nowUs
        const result = yield* effect
        const end = yield* nowUs
        sink.value.record({ track, name, startUs: start, durUs: end - start, args: args(result) })
        return result
      }))

/**
 * Numeric fields worth showing of a message or reply (step and versions), found by name at its top level
 * or inside its `request` (messages that wrap one), plus a pinned memory's `memory.seq`.
 */
const VERSION_FIELDS = ["step", "lag", "policyVersion", "memorySeq", "seq"] as const
export const versionArgs = (prefix: string, value: unknown): Record<string, number> => {
  const out: Record<string, number> = {}
  if (typeof value !== "object" || value === null) return out
  const request = (value as { request?: unknown }).request
  if (typeof request === "object" && request !== null) Object.assign(out, versionArgs(prefix, request))
  for (const f of VERSION_FIELDS) {
    const v = (value as Record<string, unknown>)[f]
    if (typeof v === "number") out[`${prefix}${f}`] = v
  }
  const memory = (value as { memory?: unknown }).memory
  if (typeof memory === "object" && memory !== null && typeof (memory as { seq?: unknown }).seq === "number") {
    out[`${prefix}memorySeq`] = (memory as { seq: number }).seq
  }
  return out
}

/** The message's name: its `_tag` when it has one. */
export const messageName = (msg: unknown): string =>
  typeof msg === "object" && msg !== null && typeof (msg as { _tag?: unknown })._tag === "string" ? (msg as { _tag: string })._tag : "message"

/** The Chrome trace-event JSON of `slices`: one thread per track, named, in order of first appearance. */
export const chromeTrace = (slices: ReadonlyArray<TraceSlice>, processName: string): { traceEvents: Array<Record<string, unknown>>; displayTimeUnit: "ms" } => {
  const tids = new Map<string, number>()
  for (const s of slices) if (!tids.has(s.track)) tids.set(s.track, tids.size + 1)
  const t0 = slices.reduce((m, s) => Math.min(m, s.startUs), Number.POSITIVE_INFINITY)
  return {
    displayTimeUnit: "ms",
    traceEvents: [
      { ph: "M", name: "process_name", pid: 1, tid: 0, args: { name: processName } },
      ...[...tids].map(([track, tid]) => ({ ph: "M", name: "thread_name", pid: 1, tid, args: { name: track } })),
      ...[...tids].map(([, tid]) => ({ ph: "M", name: "thread_sort_index", pid: 1, tid, args: { sort_index: tid } })),
      ...slices.map((s) => ({ ph: "X", name: s.name, cat: s.track, pid: 1, tid: tids.get(s.track)!, ts: s.startUs - t0, dur: s.durUs, args: s.args }))
    ]
  }
}
