/**
 * Verifier throughput: verifications/s per domain for the pool with 1, 2 and 4 worker threads (ratio to
 * 1 worker), and the pool's overhead per verdict against calling the verifier directly on this thread
 * (the baseline, measured in the same run). Requests mix reference solutions, truncations and random
 * tokens, like a training batch. Run: `node_modules/.bin/node bench/domains/verifier.bench.ts`.
 *
 * Last run (2026-11-22, 2 shared vCPUs at load average ~8-10 from other jobs, so +-50% run to run):
 *   code     direct 24.8k/s (40 us) | pool 0 workers 24.2k/s | 1 worker 6.5k/s | 2: 4.3k/s (0.66x) | 4: 6.9k/s (1.06x)
 *   science  direct 128k/s (8 us)   | pool 0 workers 111k/s  | 1 worker 12.5k/s | 2: 11.2k/s (0.89x) | 4: 22.5k/s (1.81x)
 * A check costs microseconds, so the pool's per-verdict cost (~40-200 us: message, clone, schema decode,
 * digest, Effect bookkeeping, thread wake-ups) dominates; its value is running beside the main thread
 * (which trains the policy meanwhile) and supervision, not raw speed on this machine.
 */
import { Effect } from "effect"
import { makePool } from "../../actors/verifier/index.ts"
import type { VerifyRequest } from "../../actors/verifier/protocol.ts"
import { Rng } from "../../src/core/Rng.ts"
import { makeDomain, verifySpecOf, verifyWith, type DomainSpec } from "../../src/domains/index.ts"
import { VOCAB_SIZE } from "../../src/domains/vocab.ts"

const BATCH = 256
const BATCHES = 8

const requestsFor = (spec: DomainSpec, batch: number): Array<VerifyRequest> => {
  const d = makeDomain(spec)
  const problems = d.problems("train")
  const rng = Rng.root("bench").fork(spec.name, batch)
  return Array.from({ length: BATCH }, (_, i) => {
    const p = problems[rng.below(problems.length)]!
    const sol = d.solution(p as never)
    const kind = i % 4
    const response = kind < 2 ? sol : kind === 2 ? sol.slice(0, -2) : Array.from({ length: 10 }, () => rng.below(VOCAB_SIZE))
    return { rolloutId: `b${batch}-${String(i).padStart(4, "0")}`, problemId: p.id, protocol: "eval", response }
  })
}

const direct = (spec: DomainSpec, batches: ReadonlyArray<ReadonlyArray<VerifyRequest>>): number => {
  const d = makeDomain(spec)
  const vs = verifySpecOf(d)
  const t0 = performance.now()
  let n = 0
  for (const b of batches) for (const r of b) n += verifyWith(vs, d.problem(r.problemId), r.response, r.protocol).reward
  const ms = performance.now() - t0
  if (n < 0) throw new Error("unreachable")
  return ms
}

const pooled = (spec: DomainSpec, workers: number, batches: ReadonlyArray<ReadonlyArray<VerifyRequest>>): Promise<number> =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const pool = yield* makePool({ domain: spec, workers })
    // Warm the workers' JIT and the message path on the same batches (renamed so ids stay unique).
    for (const b of batches.slice(0, 4)) yield* pool.verify(b.map((r) => ({ ...r, rolloutId: `warm-${r.rolloutId}` })))
    const t0 = performance.now()
    for (const b of batches) yield* pool.verify(b)
    return performance.now() - t0
  })))

const specs: ReadonlyArray<DomainSpec> = [{ name: "code", seed: 1 }, { name: "science", seed: 1 }]
const rows: Array<Array<string>> = [["domain", "mode", "verdicts/s", "us/verdict", "ratio to 1 worker", "overhead us/verdict vs direct"]]
for (const spec of specs) {
  const batches = Array.from({ length: BATCHES }, (_, b) => requestsFor(spec, b))
  const n = BATCH * BATCHES
  direct(spec, batches) // warm up the JIT
  const dMs = direct(spec, batches)
  const perDirect = (dMs * 1000) / n
  rows.push([spec.name, "direct (baseline)", (n / (dMs / 1000)).toFixed(0), perDirect.toFixed(1), "", "0"])
  const p0 = await pooled(spec, 0, batches)
  rows.push([spec.name, "pool, 0 workers (in-fiber)", (n / (p0 / 1000)).toFixed(0), ((p0 * 1000) / n).toFixed(1), "", ((p0 * 1000) / n - perDirect).toFixed(1)])
  let one = 0
  for (const w of [1, 2, 4]) {
    const ms = await pooled(spec, w, batches)
    if (w === 1) one = ms
    rows.push([spec.name, `pool, ${w} worker${w > 1 ? "s" : ""}`, (n / (ms / 1000)).toFixed(0), ((ms * 1000) / n).toFixed(1),
      (one / ms).toFixed(2), ((ms * 1000) / n - perDirect).toFixed(1)])
  }
}
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)))
for (const r of rows) console.log(r.map((x, c) => x.padEnd(widths[c]!)).join("  "))
console.log(`\n${BATCHES} batches x ${BATCH} requests per configuration; machine: ${(await import("node:os")).cpus().length} cores (shared)`)
