/**
 * The policy's rollout worker threads as seen from the policy (pipelined execution, issue #17): start
 * them, load weight sets into them (each worker's sets mirrored here, so a set is sent once and evicted
 * least-recently-used), and run sample and score jobs, each a promise of its reply.
 *
 * A worker that dies, or a job it cannot run, rejects its promises; the caller then computes those rows
 * itself (same code, same bits), so a run never depends on a worker's health, only its speed does.
 */
import { Worker } from "node:worker_threads"
import { Result, Schema } from "effect"
import type { HostGrads, SampleResult, Weights } from "../../src/numeric/index.ts"
import type { LossKind } from "./loss.ts"
import type { MicroBatch } from "./PolicyModel.ts"
import type { SampleRequest } from "../../src/protocol/policy.ts"
import { FromRollout, type SampleOptionsData, type ToRollout } from "./rolloutProtocol.ts"
import type { RolloutWorkerInit } from "./rolloutWorker.ts"
import type { TraceSlice } from "../../src/runtime/Trace.ts"

const WORKER_URL = new URL(import.meta.url.endsWith(".ts") ? "./rolloutWorker.ts" : "./rolloutWorker.js", import.meta.url)
const decode = Schema.decodeUnknownResult(FromRollout)

interface Slot {
  readonly worker: Worker
  dead: boolean
  /** the weight sets this worker holds, least recently used first */
  readonly held: Array<string>
  readonly pending: Map<number, { resolve: (m: FromRollout) => void; reject: (e: Error) => void }>
}

/** Where the pool reports each job as a timed slice (the run's trace), with a clock in microseconds. */
export interface JobTrace {
  readonly nowUs: () => number
  readonly record: (slice: TraceSlice) => void
}

export class RolloutPool {
  private nextJob = 0
  private readonly slots: ReadonlyArray<Slot>
  private readonly capacity: number
  /** set by the owner when the run is traced: each job, from posting to its reply, on the worker's track */
  trace: JobTrace | null = null

  private constructor(slots: ReadonlyArray<Slot>, capacity: number) {
    this.slots = slots
    this.capacity = capacity
  }

  /** Starts `n` workers and resolves once every one has its backend up (rejects if one dies first). */
  static async start(n: number, init: Omit<RolloutWorkerInit, "index">, capacity: number): Promise<RolloutPool> {
    const slots = Array.from({ length: n }, (_, index): Slot => ({
      worker: new Worker(WORKER_URL, { workerData: { ...init, index } satisfies RolloutWorkerInit }), dead: false, held: [], pending: new Map()
    }))
    const pool = new RolloutPool(slots, capacity)
    try {
      await Promise.all(slots.map((slot) => pool.watch(slot)))
    } catch (e) {
      await pool.close()
      throw e
    }
    return pool
  }

  /** The workers still alive, by index. */
  alive(): Array<number> {
    return this.slots.flatMap((s, i) => (s.dead ? [] : [i]))
  }

  /** Whether worker `w` has a job in hand (it takes background work only when not). */
  busy(w: number): boolean {
    return this.slots[w]!.pending.size > 0
  }

  sample(w: number, set: { id: string; weights: () => Weights }, seed: number, rows: ReadonlyArray<SampleRequest>, options: SampleOptionsData): Promise<Array<SampleResult>> {
    this.load(w, set)
    return this.ask(w, (job) => ({ _tag: "Sample", job, weights: set.id, seed, rows, options }), "Sampled").then((m) => m.results.map((r) => ({ ...r })))
  }

  score(w: number, set: { id: string; weights: () => Weights }, contexts: ReadonlyArray<ReadonlyArray<number>>, responses: ReadonlyArray<ReadonlyArray<number>>): Promise<Array<Float32Array>> {
    this.load(w, set)
    return this.ask(w, (job) => ({ _tag: "Score", job, weights: set.id, contexts, responses }), "Scored").then((m) => [...m.logProbs])
  }

  grads(w: number, set: { id: string; weights: () => Weights }, kind: LossKind, importance: boolean, micro: MicroBatch): Promise<HostGrads> {
    this.load(w, set)
    return this.ask(w, (job) => ({ _tag: "Grad", job, weights: set.id, kind, importance, micro }), "Grads").then((m) => ({ loss: m.loss, grads: m.grads }))
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()))
  }

  private load(w: number, set: { id: string; weights: () => Weights }): void {
    const slot = this.slots[w]!
    const at = slot.held.indexOf(set.id)
    if (at >= 0) {
      slot.held.push(...slot.held.splice(at, 1))
      return
    }
    const evict = slot.held.length >= this.capacity ? slot.held.splice(0, slot.held.length - this.capacity + 1) : []
    slot.held.push(set.id)
    this.post(slot, { _tag: "Load", id: set.id, weights: set.weights(), evict })
  }

  private ask<T extends "Sampled" | "Scored" | "Grads">(w: number, msg: (job: number) => ToRollout, tag: T): Promise<Extract<FromRollout, { _tag: T }>> {
    const slot = this.slots[w]!
    const job = this.nextJob++
    const trace = this.trace
    const startUs = trace?.nowUs() ?? 0
    const sent = msg(job)
    const done = (m: FromRollout) => {
      const rows = sent._tag === "Sample" ? sent.rows.length : sent._tag === "Score" ? sent.contexts.length : sent._tag === "Grad" ? sent.micro.batch.B : 0
      const weights = sent._tag === "Load" ? sent.id : sent.weights
      trace?.record({ track: `rollout-worker-${w}`, name: sent._tag, startUs, durUs: trace.nowUs() - startUs, args: { job, rows, weights, reply: m._tag, ...(m._tag === "Failed" || m._tag === "Ready" ? {} : { busyMs: Math.round(m.busyMs) }) } })
      return m
    }
    return new Promise<FromRollout>((resolve, reject) => {
      if (slot.dead) return reject(new Error(`rollout worker ${w} is dead`))
      slot.pending.set(job, { resolve, reject })
      this.post(slot, sent)
    }).then(done).then((m) => {
      if (m._tag !== tag) throw new Error(`rollout worker ${w}: job ${job} ${m._tag === "Failed" ? `failed: ${m.message}` : `replied ${m._tag}`}`)
      return m as Extract<FromRollout, { _tag: T }>
    })
  }

  private post(slot: Slot, m: ToRollout): void {
    if (!slot.dead) slot.worker.postMessage(m)
  }

  /** Routes a worker's replies to their jobs; resolves when it is ready, rejects if it dies first. */
  private watch(slot: Slot): Promise<void> {
    return new Promise<void>((ready, failed) => {
      let reason = "exited"
      const die = () => {
        slot.dead = true
        failed(new Error(`rollout worker: ${reason}`))
        for (const p of slot.pending.values()) p.reject(new Error(`rollout worker died: ${reason}`))
        slot.pending.clear()
      }
      // permanent listeners: an 'error' event without one would take the whole process down
      slot.worker.on("error", (e: unknown) => void (reason = e instanceof Error ? e.message : String(e)))
      slot.worker.on("exit", die)
      slot.worker.on("message", (raw: unknown) => {
        const r = decode(raw)
        if (Result.isFailure(r)) return void slot.worker.terminate()
        const m = r.success
        if (m._tag === "Ready") return ready()
        const p = slot.pending.get(m.job)
        slot.pending.delete(m.job)
        p?.resolve(m)
      })
    })
  }
}
