/**
 * (1) Consolidation time vs number of problems (1k, 10k, 100k), with the fitted growth exponent
 *     (least-squares slope of log time on log n; 1.0 = linear). Synthetic memory: 64 latent clusters,
 *     prompts carry a cluster cue plus problem digits, each problem has 2 strategies (one contains its
 *     cluster's 2-op skill) and 1 lesson. Embedding the problems is timed apart (the actor caches it).
 * (2) Cost of one memory update (a new snapshot version after a batch of 32 problems changed their
 *     experience and insights) as the memory grows: it should stay flat (O(change), not O(memory)).
 * Run: node_modules/.bin/node bench/memory/consolidation.bench.ts
 */
import { Rng } from "../../src/core/Rng.ts"
import { emptyBank } from "../../src/memory/behavior/behavior.ts"
import { consolidate } from "../../src/memory/behavior/consolidate.ts"
import { makeHashEmbedder } from "../../src/memory/embed/hashEmbed.ts"
import type { ProblemExperience } from "../../src/memory/experience/experience.ts"
import type { Insight, ProblemInsights } from "../../src/memory/insight/insights.ts"
import type { MemoryState } from "../../src/memory/state.ts"
import { VersionedMemory } from "../../src/memory/versioned.ts"

const embed = makeHashEmbedder()
const CLUSTERS = 64
const rng = Rng.root("bench/memory/consolidation")

const problem = (i: number) => {
  const c = i % CLUSTERS
  const r = rng.fork(i)
  return { id: `p${String(i).padStart(6, "0")}`, c, tokens: [4, 13, 55 + (c % 24), 79 + (c >> 3), 3, ...Array.from({ length: 6 }, () => 16 + r.below(10)), 11] }
}
const insightsOf = (p: { id: string; c: number }, step: number): ProblemInsights => {
  const r = rng.fork("ins", p.id, step)
  const src = { rolloutIds: [`${p.id}-s${step}`], policyVersion: step, step }
  const ins = (kind: "strategy" | "lesson", tokens: Array<number>, j: number): Insight =>
    ({ id: `${p.id}-${kind}-${j}`, problemId: p.id, kind, tokens, feedback: [], contrastive: true, confidence: 0.5, support: 1, sources: src })
  const skill = [28 + (p.c % 15), 28 + ((p.c * 7) % 15)]
  return {
    problemId: p.id,
    strategies: [ins("strategy", [...skill, 16 + r.below(10)], 0), ins("strategy", [28 + r.below(15), 16 + r.below(10)], 1)],
    lessons: [ins("lesson", [28 + r.below(15), 28 + r.below(15)], 0)]
  }
}
const experienceOf = (id: string, step: number): ProblemExperience => ({
  problemId: id, attempts: step + 1, solved: 1, failures: [],
  successes: [{ id: `${id}-s${step}`, response: [40, 41, 16 + (step % 10), 2], feedback: [], success: true, prov: { rolloutId: `${id}-s${step}`, policyVersion: step, step, reward: 1 } }]
})

const fmt = (ms: number) => (ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`)
const table = (head: Array<string>, rows: Array<Array<string>>) => {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (r: Array<string>) => r.map((c, i) => c.padEnd(w[i]!)).join(" | ")
  console.log(line(head))
  console.log(w.map((x) => "-".repeat(x)).join("-|-"))
  for (const r of rows) console.log(line(r))
}

// (1) consolidation vs problems
const sizes = [1_000, 10_000, 100_000]
const times: Array<number> = []
const rows1: Array<Array<string>> = []
for (const n of sizes) {
  const ps = Array.from({ length: n }, (_, i) => problem(i))
  let t = performance.now()
  const problems = ps.map((p) => ({ id: p.id, vec: embed(p.tokens) }))
  const embedMs = performance.now() - t
  const insights = ps.map((p) => insightsOf(p, 0))
  t = performance.now()
  const r = consolidate({ problems, insights, bank: emptyBank, ctx: { step: 1, policyVersion: 1 } }, embed)
  const ms = performance.now() - t
  times.push(ms)
  t = performance.now()
  const again = consolidate({ problems, insights, bank: r.bank, ctx: { step: 2, policyVersion: 1 } }, embed)
  const ms2 = performance.now() - t
  rows1.push([String(n), fmt(embedMs), fmt(ms), fmt(ms2), String(r.clustering.clusters.length), String(r.bank.behaviors.length), String(again.edits.length),
    (ms / times[0]!).toFixed(1) + "x"])
}
const lx = sizes.map(Math.log)
const ly = times.map(Math.log)
const mx = lx.reduce((a, b) => a + b) / lx.length
const my = ly.reduce((a, b) => a + b) / ly.length
const slope = lx.reduce((a, x, i) => a + (x - mx) * (ly[i]! - my), 0) / lx.reduce((a, x) => a + (x - mx) ** 2, 0)
console.log("\n(1) consolidation time vs number of problems (cold start, then the same input again = retrieve-then-decide)")
table(["problems", "embed problems", "consolidate (cold)", "consolidate (again)", "clusters", "bank size", "edits 2nd run", "vs 1k (cold)"], rows1)
console.log(`fitted growth exponent (cold): time ~ n^${slope.toFixed(2)}`)

// (2) one memory update as the memory grows
const rows2: Array<Array<string>> = []
let base = 0
for (const n of sizes) {
  const ps = Array.from({ length: n }, (_, i) => problem(i))
  const state: MemoryState = {
    experience: new Map(ps.map((p) => [p.id, experienceOf(p.id, 0)])),
    insights: new Map(ps.map((p) => [p.id, insightsOf(p, 0)])),
    bank: emptyBank
  }
  const vm = new VersionedMemory()
  let t = performance.now()
  vm.commit(state, { step: 0, policyVersion: 0 }, "init")
  const initMs = performance.now() - t
  const lat: Array<number> = []
  let cur = state
  for (let step = 1; step <= 20; step++) {
    const batch = Array.from({ length: 32 }, (_, j) => ps[(step * 32 + j * 7919) % n]!)
    const experience = new Map(cur.experience)
    const insights = new Map(cur.insights)
    for (const p of batch) {
      experience.set(p.id, experienceOf(p.id, step))
      insights.set(p.id, insightsOf(p, step))
    }
    cur = { ...cur, experience, insights }
    t = performance.now()
    vm.commit(cur, { step, policyVersion: step }, "step", { experience: batch.map((p) => p.id), insights: batch.map((p) => p.id) })
    lat.push(performance.now() - t)
  }
  const med = [...lat].sort((a, b) => a - b)[10]!
  if (base === 0) base = med
  rows2.push([String(n), String(2 * n), fmt(initMs), fmt(med), fmt(Math.max(...lat)), (med / base).toFixed(2) + "x"])
  if (n === sizes[sizes.length - 1]) {
    // the same update without the `touched` hint: a reference scan of every record
    const experience = new Map(cur.experience)
    experience.set(ps[0]!.id, experienceOf(ps[0]!.id, 99))
    t = performance.now()
    vm.commit({ ...cur, experience }, { step: 99, policyVersion: 99 }, "scan")
    rows2.push([String(n), String(2 * n), "-", fmt(performance.now() - t), "-", "(no touched hint: full scan)"])
  }
}
console.log("\n(2) one memory update (64 records of 32 problems change) -> a new snapshot version")
table(["problems", "records", "first full commit", "update p50 (20 steps)", "update max", "vs 1k"], rows2)
