/**
 * Snapshot store costs (src/memory/store): committing one change at 1k / 10k / 100k entries (should stay
 * flat: O(depth) nodes per change), a batch of 1000 edits (per edit, against a single commit at the same
 * size: at 1k the batch rewrites the whole small tree once, at 100k its edits share only the top levels),
 * diffing two versions one change apart, and save/load of a version to a directory.
 * Ratios are against the 1k-entry figure (or the named baseline) measured in the same run. Run:
 *   node_modules/.bin/node bench/memory/snapshot.bench.ts     (or: npm run bench snapshot)
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { diff } from "../../src/memory/store/diff.ts"
import { DiskStore } from "../../src/memory/store/disk.ts"
import { PMap } from "../../src/memory/store/PMap.ts"
import { VersionStore } from "../../src/memory/store/Versions.ts"

const entry = (i: number) => ({ text: `insight ${i}: prefer sorting before dedup`, conf: (i % 100) / 100, rollouts: [i, i + 1] })
const build = (n: number) => PMap.fromEntries(Array.from({ length: n }, (_, i) => [`insight/${i}`, entry(i)] as const))

const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
/** Median wall time of `f` in microseconds over `reps` repetitions (after a short warm-up). */
const timeUs = (reps: number, f: (rep: number) => void): number => {
  for (let i = 0; i < Math.min(20, reps); i++) f(-1 - i)
  const xs: Array<number> = []
  for (let i = 0; i < reps; i++) {
    const t = performance.now()
    f(i)
    xs.push((performance.now() - t) * 1000)
  }
  return median(xs)
}

const sizes = [1_000, 10_000, 100_000]
const rows: Array<{ n: number; commitUs: number; nodes: number; batchUs: number; diffUs: number }> = []
for (const n of sizes) {
  const store = VersionStore.empty()
  let m = build(n)
  store.commit("main", m, { step: 0, policyVersion: 0, label: "base" })
  let nodes = 0
  const commitUs = timeUs(400, (rep) => {
    m = m.set(`insight/${(rep * 7919 + 13) % n}`, entry(rep))
    nodes = store.commit("main", m, { step: rep + 21, policyVersion: 0, label: "one" }).newNodes
  })
  // 1000 edits in one batch, then one commit: per-edit cost
  const batchUs = timeUs(7, (rep) => {
    const b = m.edit()
    for (let j = 0; j < 1000; j++) b.set(`insight/${(rep * 1000 + j * 31) % n}`, entry(j))
    m = b.commit()
    store.commit("main", m, { step: 1000 + rep + 8, policyVersion: 0, label: "batch" })
  }) / 1000
  // diff of two versions one change apart (skips all shared subtrees)
  const before = m
  const after = m.set("insight/3", entry(-3))
  const diffUs = timeUs(400, () => {
    if (diff(before, after).changed.length !== 1) throw new Error("diff")
  })
  rows.push({ n, commitUs, nodes, batchUs, diffUs })
}
const base = rows[0]!
console.log("one-change commit (PMap.set + VersionStore.commit), median")
console.table(rows.map((r) => ({
  entries: r.n,
  "µs/commit": r.commitUs.toFixed(1),
  "x vs 1k": (r.commitUs / base.commitUs).toFixed(2),
  "new nodes": r.nodes,
  "µs/edit in 1000-edit batch": r.batchUs.toFixed(1),
  // a batch shares upper nodes between its edits: compare with single commits at the same size
  "batch edit x single commit": (r.batchUs / r.commitUs).toFixed(2),
  "µs/diff (1 change)": r.diffUs.toFixed(1),
  "diff x vs 1k": (r.diffUs / base.diffUs).toFixed(2)
})))

// Save / load of a 100k-entry store, then an incremental save of one more commit.
const dir = mkdtempSync(join(tmpdir(), "pmdsim-bench-"))
try {
  const ds = DiskStore.open(dir)
  const m = build(100_000)
  ds.store.commit("main", m, { step: 0, policyVersion: 0, label: "base" })
  let t = performance.now()
  const full = ds.save()
  const fullMs = performance.now() - t
  ds.store.commit("main", m.set("insight/5", entry(-5)), { step: 1, policyVersion: 0, label: "one" })
  t = performance.now()
  const inc = ds.save()
  const incMs = performance.now() - t
  t = performance.now()
  const back = DiskStore.open(dir)
  const loadMs = performance.now() - t
  if (back.store.read("main").id !== m.set("insight/5", entry(-5)).id) throw new Error("load mismatch")
  t = performance.now()
  const rebuilt = build(100_000)
  const buildMs = performance.now() - t
  if (rebuilt.id !== m.id) throw new Error("rebuild mismatch")
  console.log("save / load, 100k entries (baseline: building the same map in memory)")
  console.table([
    { op: "build map in memory (baseline)", ms: buildMs.toFixed(0), "x vs build": "1.00", nodes: "", bytes: "" },
    { op: "full save", ms: fullMs.toFixed(0), "x vs build": (fullMs / buildMs).toFixed(2), nodes: full.nodesWritten, bytes: full.bytesWritten },
    { op: "incremental save, 1 change", ms: incMs.toFixed(1), "x vs build": (incMs / buildMs).toFixed(4), nodes: inc.nodesWritten, bytes: inc.bytesWritten },
    { op: "load + verify (2 versions)", ms: loadMs.toFixed(0), "x vs build": (loadMs / buildMs).toFixed(2), nodes: back.store.nodeCount, bytes: "" }
  ])
} finally {
  rmSync(dir, { recursive: true, force: true })
}
