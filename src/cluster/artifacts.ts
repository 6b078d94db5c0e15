/**
 * A run directory in PostgreSQL: its files content-addressed (P_blobs) under a per-run index (P_run_files),
 * its metrics.jsonl as rows (P_metrics). `uploadRunDir` stores a consistent snapshot that `hydrateRunDir`
 * writes back on any runner, where `pmdsim run --resume` continues it from its last checkpoint.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { dirname, join, sep } from "node:path"
import { sha256Hex } from "../core/Hash.ts"
import { FILES } from "../experiments/runDir.ts"
import { T } from "./schema.ts"

/** The run's lock and the temp files of the file layer and of checkpoints are never part of a snapshot. */
const SKIP = /(^|\/)pmdsim\.lock|\.\d+\.(tmp|new|stale)$|(^|\/)step-\d{6}\.tmp(\/|$)/

interface FileRead { readonly path: string; readonly bytes: Uint8Array }

const relFiles = (dir: string): Array<string> => {
  try {
    return readdirSync(dir, { recursive: true, encoding: "utf8" })
      .map((p) => p.split(sep).join("/"))
      .filter((p) => !SKIP.test(p) && statSync(join(dir, p), { throwIfNoEntry: false })?.isFile() === true)
      .sort()
  } catch {
    return []
  }
}

const tryRead = (dir: string, path: string): Uint8Array | undefined => {
  try {
    return readFileSync(join(dir, path))
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined // pruned or replaced meanwhile
    throw e
  }
}

/**
 * Reads a snapshot of a run directory that a running `pmdsim run` may be writing. Checkpoints are read
 * first and the append-only files (metrics, journal, memory) after, so those are at least as new as the
 * newest checkpoint: a resume truncates them back to it. A checkpoint directory that lost a file while it
 * was read (pruned) is left out whole. Checkpoints appear by rename, so a listed one is complete.
 */
export const readSnapshot = (dir: string): Array<FileRead> => {
  const all = relFiles(dir)
  const ckpt = `${FILES.checkpoints}/`
  const first = all.filter((p) => p.startsWith(ckpt))
  const out: Array<FileRead> = []
  const broken = new Set<string>()
  for (const p of first) {
    const bytes = tryRead(dir, p)
    const group = p.split("/").slice(0, 2).join("/")
    if (bytes === undefined) broken.add(group)
    else out.push({ path: p, bytes })
  }
  for (const p of all.filter((x) => !x.startsWith(ckpt))) {
    const bytes = tryRead(dir, p)
    if (bytes !== undefined) out.push({ path: p, bytes })
  }
  return out.filter((f) => !broken.has(f.path.split("/").slice(0, 2).join("/")))
}

/** Newest checkpoint directory name in `dir` ("" if none): a change means a snapshot is due. */
export const newestCheckpoint = (dir: string): string => {
  try {
    return readdirSync(join(dir, FILES.checkpoints)).filter((n) => /^step-\d{6}$/.test(n)).sort().at(-1) ?? ""
  } catch {
    return ""
  }
}

/** Complete lines of metrics.jsonl, parsed (a line still being written is left for the next snapshot). */
export const metricsRows = (text: string): Array<Record<string, unknown>> => {
  const lines = text.split("\n")
  lines.pop() // after the last "\n": empty, or a line not yet complete
  return lines.filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as Record<string, unknown>)
}

/** The step of the last train row (what `status` shows as "running at step k"). */
export const lastTrainStep = (rows: ReadonlyArray<Record<string, unknown>>): number => {
  for (let i = rows.length - 1; i >= 0; i--) if (rows[i]!["kind"] === "train" && typeof rows[i]!["step"] === "number") return rows[i]!["step"] as number
  return 0
}

/** Newest checkpoint step among snapshot paths (-1: none); summary.json counts as past every checkpoint. */
const snapshotRank = (paths: ReadonlyArray<string>): number =>
  paths.includes(FILES.summary) ? Number.MAX_SAFE_INTEGER : Math.max(-1, ...paths.map((p) => /^checkpoints\/step-(\d{6})\//.exec(p)).map((m) => (m === null ? -1 : Number(m[1]))))

/**
 * Stores a snapshot: new contents into P_blobs (skipping those this process already stored), then the run's
 * whole index replaced in one transaction (a reader never sees half of two snapshots), then its metrics rows.
 * The stored snapshot only moves forward: a snapshot older than the stored one (a runner that lost its shard
 * but still wrote, design doc §6) is dropped, so a resume never goes back to an earlier checkpoint.
 * Returns the last train step of the snapshot.
 */
export const uploadRunDir = (runId: string, dir: string, stored: Set<string>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const files = readSnapshot(dir).map((f) => ({ ...f, sha256: sha256Hex(f.bytes) }))
    // one statement per snapshot for the new contents and one for the index (round trips are the cost)
    const fresh = [...new Map(files.filter((f) => !stored.has(f.sha256)).map((f) => [f.sha256, f.bytes])).entries()]
    if (fresh.length > 0) {
      yield* sql.unsafe(`INSERT INTO ${T.blobs} (sha256, bytes) SELECT * FROM unnest($1::text[], $2::bytea[]) ON CONFLICT (sha256) DO NOTHING`,
        [fresh.map(([h]) => h), fresh.map(([, b]) => b)])
      for (const [h] of fresh) stored.add(h)
    }
    const rank = snapshotRank(files.map((f) => f.path))
    const kept = yield* sql.withTransaction(Effect.gen(function*() {
      // one writer per run at a time: the run's row is the lock
      yield* sql.unsafe(`SELECT run_id FROM ${T.runs} WHERE run_id = $1 FOR UPDATE`, [runId])
      const before = yield* sql.unsafe<{ path: string }>(`SELECT path FROM ${T.runFiles} WHERE run_id = $1`, [runId])
      if (snapshotRank(before.map((r) => r.path)) > rank) return false
      yield* sql.unsafe(`DELETE FROM ${T.runFiles} WHERE run_id = $1`, [runId])
      yield* sql.unsafe(`INSERT INTO ${T.runFiles} (run_id, path, sha256) SELECT $1, * FROM unnest($2::text[], $3::text[])`,
        [runId, files.map((f) => f.path), files.map((f) => f.sha256)])
      return true
    }))
    const metrics = files.find((f) => f.path === FILES.metrics)
    const rows = metrics === undefined ? [] : metricsRows(Buffer.from(metrics.bytes).toString("utf8"))
    if (kept) yield* writeMetricsRows(runId, rows)
    return lastTrainStep(rows)
  })

/**
 * All metrics rows of the snapshot, one statement. Rows are upserted by line number, and lines past the
 * snapshot's end (a resume truncated them) are deleted: a deterministic rerun writes the same rows again.
 */
const writeMetricsRows = (runId: string, rows: ReadonlyArray<Record<string, unknown>>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe(
      `INSERT INTO ${T.metrics} (run_id, seq, step, kind, protocol, row)
       SELECT $1, (e.ord - 1)::int, COALESCE((e.value->>'step')::int, 0), COALESCE(e.value->>'kind', ''), e.value->>'protocol', e.value
       FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(value, ord)
       ON CONFLICT (run_id, seq) DO UPDATE SET step = EXCLUDED.step, kind = EXCLUDED.kind, protocol = EXCLUDED.protocol, row = EXCLUDED.row`,
      [runId, JSON.stringify(rows)]
    )
    yield* sql.unsafe(`DELETE FROM ${T.metrics} WHERE run_id = $1 AND seq >= $2`, [runId, rows.length])
  })

/** Writes a run's stored snapshot into `dir` (which must be empty); returns how many files it wrote. */
export const hydrateRunDir = (runId: string, dir: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql.unsafe<{ path: string; bytes: Uint8Array }>(
      `SELECT f.path, b.bytes FROM ${T.runFiles} f JOIN ${T.blobs} b ON b.sha256 = f.sha256 WHERE f.run_id = $1 ORDER BY f.path`, [runId])
    for (const r of rows) {
      if (r.path.split("/").some((c) => c === ".." || c === "") || r.path.startsWith("/")) {
        return yield* Effect.die(new Error(`refusing stored path ${JSON.stringify(r.path)} of run ${runId}`))
      }
      mkdirSync(dirname(join(dir, r.path)), { recursive: true })
      writeFileSync(join(dir, r.path), r.bytes)
    }
    return rows.length
  })
