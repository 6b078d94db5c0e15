/**
 * Trace-driven memory replay (issue #15 item 2): a run's recorded memory calls (rollouts.jsonl) fed step by
 * step through a memory pipeline, without the policy, the teacher, the verifier or training, into a new
 * snapshot store, then compared with the run's own memory (compare.ts).
 *
 * The pipeline is the run's: a MemoryKeeper built as setup.ts builds it (the same domain, problem keys and
 * seeded embedder) with the plug-ins the config names, and each call applied through the memory actor's own
 * transition (memoryCall.ts). `sets` change `memory.*` fields only (a consolidator, the bank capacity, the
 * levels, ...); with none, the replay writes the run's versions exactly (identical snapshot ids), which is
 * what shows that the recording is complete.
 *
 * Where the replay starts: empty memory; for a run started with `memory.importFrom`, the run's imported
 * version (copied from the run's store, so it is the same input whatever the sets); for a fork, the memory of
 * its fork checkpoint (the source's history, copied version by version, with the checkpoint's frozen flag
 * and Memp store), replaying the fork's own steps only.
 *
 * What is recorded is replayed, not recomputed: which behavior the teacher used for a rollout (Memp
 * bookkeeping and PMD's hit counters) is the run's. Under a changed pipeline a recorded use of a behavior the
 * replay's bank lacks counts for nothing, as a lagged teacher's use of a replaced behavior does in a run.
 */
import { existsSync, readFileSync, statSync } from "node:fs"
import { join, resolve } from "node:path"
import { type MemoryKeeper, memoryKeeper, type MemoryRestore } from "../../../actors/memory/index.ts"
import { usesMemory } from "../../../actors/orchestrator/index.ts"
import { ConfigError, configHash, deepMerge, parseSet, validateConfig } from "../../config/resolve.ts"
import type { RunConfig } from "../../config/RunConfig.ts"
import { writeFileDurable } from "../../core/durableFile.ts"
import { hashValue, sha256Hex } from "../../core/Hash.ts"
import { makeDomain } from "../../domains/index.ts"
import { DiskStore } from "../../memory/store/disk.ts"
import type { Version, VersionStore } from "../../memory/store/Versions.ts"
import { VersionedMemory } from "../../memory/versioned.ts"
import { defaultRegistry, pluginFields, type PluginRegistry, resolvePlugins } from "../../plugins/registry.ts"
import type { MemoryPlugins } from "../../plugins/types.ts"
import { readRunCheckpoint } from "../checkpoint.ts"
import { IMPORT_LABEL } from "../importMemory.ts"
import { readRunConfig } from "../resume.ts"
import { FILES, hasMarker, readMarker, RunDirError } from "../runDir.ts"
import { contentEmbedder, problemEmbedder } from "../problemEmbedder.ts"
import { domainSpec, modelConfig, problemKeys } from "../setup.ts"
import { type Comparison, compareMemories } from "./compare.ts"
import { applyMemoryCall, restoreMemory, viewAt } from "./memoryCall.ts"
import { prepareReplayOut, REPLAY_FILES } from "./outDir.ts"
import { readRolloutsFile, ROLLOUTS_FILE, RolloutsFileError, type RolloutsRecord } from "./rolloutsFile.ts"

export interface MemoryReplayInput {
  /** the recorded run (read only) */
  readonly run: string
  /** where the replay's snapshot store and comparison go: new, or a previous memory-replay output of the same inputs */
  readonly out: string
  /** `memory.X=value` overrides (values are JSON, bare words strings), as `--set` */
  readonly sets?: ReadonlyArray<string>
  /** where the config's plug-in names resolve (default: the process-wide registry) */
  readonly registry?: PluginRegistry
}

export interface MemoryReplayResult extends Comparison {
  readonly format: "pmdsim-memory-replay/1"
  readonly run: string
  readonly out: string
  readonly sets: ReadonlyArray<string>
  /** the memory plug-ins the replay ran, by config field */
  readonly plugins: Readonly<Record<string, string>>
  /** the replay starts after this run step (0, or a fork's fork step) and replays `steps` recorded steps */
  readonly from: number
  readonly steps: number
}

/** The run's config with `memory.*` overrides, validated (a ConfigError names a bad key or value). */
export const applyMemorySets = (cfg: RunConfig, sets: ReadonlyArray<string>, origin: string): RunConfig => {
  let raw: unknown = cfg
  for (const s of sets) {
    const { path, value } = parseSet(s)
    const key = path.join(".")
    if (path[0] !== "memory" || path.length !== 2) {
      throw new ConfigError({ message: `--set ${key}: memory-replay changes memory.* fields only (the rollouts are the run's, recorded)` })
    }
    if (path[1] === "importFrom") throw new ConfigError({ message: `--set ${key}: memory-replay starts from the run's own imported memory; it cannot import another` })
    raw = deepMerge(raw, { memory: { [path[1]!]: value } })
  }
  return validateConfig(raw, `${origin} + --set`)
}

/** The version history ending at `head`, oldest first ([] for none). */
const historyOf = (store: VersionStore, head: string | undefined): Array<Version> => (head === undefined ? [] : store.log(head).reverse())

/** Keepers as setup.ts builds them (domain, problem keys and embedder made once), over any versioned memory. */
const keeperFactory = (cfg: RunConfig, plugins: MemoryPlugins) => {
  const domain = makeDomain(domainSpec(cfg))
  const embed = contentEmbedder()
  const train = problemKeys(cfg, domain, "train")
  const heldout = problemKeys(cfg, domain, "heldout")
  const embedProblem = problemEmbedder(cfg, modelConfig(cfg), embed, [...train, ...heldout].map((p) => p.query))
  return (vm: VersionedMemory) => memoryKeeper(cfg, { embed, embedProblem, train, heldout, vm, plugins })
}

const lazy = <A>(make: () => A): (() => A) => {
  let a: { value: A } | undefined
  return () => (a ??= { value: make() }).value
}

/** Everything checked before the output directory is touched: the run, its config and recording, the sets, the plug-ins. */
export const readReplayInputs = (input: MemoryReplayInput) => {
  const run = input.run
  if (!existsSync(run)) throw new RunDirError({ dir: run, problem: "no such run directory" })
  if (!statSync(run).isDirectory()) throw new RunDirError({ dir: run, problem: "exists and is a file, not a directory" })
  const runCfg = readRunConfig(run)
  if (!usesMemory(runCfg)) throw new ConfigError({ message: `${join(run, FILES.config)}: method ${runCfg.method} keeps no memory: there is nothing to replay` })
  if (runCfg.method === "pmd-transient") {
    throw new ConfigError({ message: `${join(run, FILES.config)}: method pmd-transient builds a throw-away memory each step and stores none: there is nothing to compare a replay with` })
  }
  const sets = input.sets ?? []
  const cfg = applyMemorySets(runCfg, sets, join(run, FILES.config))
  const plugins = resolvePlugins(cfg, input.registry ?? defaultRegistry)
  const file = join(run, ROLLOUTS_FILE)
  const records = readRolloutsFile(file, { dropTruncatedLastLine: true })
  const forkedFrom = hasMarker(run) ? readMarker(run).forkedFrom : undefined
  const from = forkedFrom?.step ?? 0
  const mine = records.filter((r) => r.step > from)
  mine.forEach((r, k) => {
    if (r.step !== from + k + 1) {
      throw new RolloutsFileError({
        file, problem: `has no record for step ${from + k + 1} (the next is step ${r.step}): the run was resumed from a checkpoint older than its recording, so its memory cannot be replayed`
      })
    }
  })
  const memoryDir = join(run, FILES.memory)
  const runDisk = DiskStore.open(memoryDir)
  const inputs = hashValue({
    run: resolve(run), runConfig: configHash(runCfg), replayConfig: configHash(cfg), rollouts: sha256Hex(readFileSync(file)),
    memoryHead: runDisk.store.head("main")?.id ?? null
  })
  return { run, runCfg, cfg, plugins, sets, records: mine, from, forkedFrom, runDisk, inputs }
}

/** The run's memory the replay starts from: versions to copy, and for a fork its checkpoint's flags and Memp store. */
const startOf = (i: ReturnType<typeof readReplayInputs>): { prefix: Array<Version>; restore: MemoryRestore | null } => {
  const store = i.runDisk.store
  if (i.forkedFrom !== undefined) {
    const { run } = readRunCheckpoint(i.run, i.from)
    return { prefix: run.memoryHead === "empty" ? [] : historyOf(store, run.memoryHead), restore: { frozen: run.memoryFrozen, memp: run.memp } }
  }
  const first = historyOf(store, store.head("main")?.id)[0]
  return { prefix: first !== undefined && first.meta.label === IMPORT_LABEL ? [first] : [], restore: null }
}

/** Replays `records` into the store of `out`/memory (the caller prepared `out` and holds its lock); returns the comparison. */
const replayInto = (i: ReturnType<typeof readReplayInputs>, out: string): MemoryReplayResult => {
  const runStore = i.runDisk.store
  const start = startOf(i)
  const disk = DiskStore.open(join(out, REPLAY_FILES.memory))
  for (const v of start.prefix) {
    const copied = disk.store.commit("main", runStore.read(v.id), v.meta).version
    if (copied.id !== v.id) throw new Error(`memory-replay: version ${v.id} copied as ${copied.id} (a bug)`)
  }
  const keeperOf = keeperFactory(i.cfg, i.plugins)
  let keeper = keeperOf(new VersionedMemory(disk.store, "main"))
  // a fork starts where its checkpoint was: the flags and Memp store go in by the memory's own message
  if (start.restore !== null) keeper = restoreMemory(keeper, start.restore)
  const fresh = (): MemoryKeeper => {
    throw new Error("memory-replay: a fresh (PMD-Transient) memory was asked for (a bug: that method is refused)")
  }
  for (const r of i.records) if (r.call !== null) keeper = applyMemoryCall(keeper, r.call, fresh)
  disk.save()
  const queries = new Map(i.records.flatMap((r: RolloutsRecord) =>
    r.call?._tag === "Remember" ? [[r.step, r.call.request.groups.map((g) => g.problemId)] as const] : []))
  // the run's side is read through a memory over its store (made when first needed), the replay's through the replay's memory
  const runMemory = lazy(() => keeperOf(new VersionedMemory(runStore, "main")))
  const comparison = compareMemories(
    { store: runStore, history: historyOf(runStore, runStore.head("main")?.id), view: (v, problemId, stream) => viewAt(runMemory(), v, problemId, stream) },
    { store: disk.store, history: historyOf(disk.store, disk.store.head("main")?.id), view: (v, problemId, stream) => viewAt(keeper, v, problemId, stream) },
    { seed: i.cfg.seed, lag: i.cfg.memory.lag, queries }
  )
  return {
    format: "pmdsim-memory-replay/1", run: i.run, out, sets: i.sets,
    plugins: Object.fromEntries(pluginFields(i.cfg).map((f) => [f.field, f.name])),
    from: i.from, steps: i.records.length, ...comparison
  }
}

/**
 * The replay, start to end (synchronous; the caller holds the lock of `out`, which exists): `out` is made
 * ready (prepareReplayOut), the replay's store written, then diff.json.
 */
export const memoryReplayInto = (i: ReturnType<typeof readReplayInputs>, out: string): MemoryReplayResult => {
  prepareReplayOut(out, i.inputs, i.run, i.sets)
  const result = replayInto(i, out)
  writeFileDurable(join(out, REPLAY_FILES.diff), `${JSON.stringify(result, null, 2)}\n`)
  return result
}
