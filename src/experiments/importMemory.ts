/**
 * Memory transfer (issue #13): `memory.importFrom: "RUN_DIR@STEP"` starts a run with the memory run
 * RUN_DIR held at its checkpoint STEP: experience, insights, the behavior bank (with its usage counters
 * and retired list) and the Memp store, exactly as that checkpoint would restore them. The paper moves
 * memory to other models and Memp moves procedures across models; here the target may differ in seed,
 * method, model width or depth, and base.
 *
 * The imported memory is the run's first version: one commit (label "import", step 0, policy version 0)
 * before step 0's evaluation, so `keeper.newest.seq` is 1 at step 0 (0 stays "the empty memory before any
 * commit") and step 0's memory-augmented evaluation already reads it. From then on it is ordinary state: a
 * checkpoint holds it in the run's own snapshot store, so resume, fork and eval-noise never read the source
 * again. Only a start from step 0 imports: a first start, a restart before the first checkpoint (compared
 * with the content recorded in the marker, refused if the source changed: `checkImportUnchanged`), and
 * `pmdsim replay` (which re-runs from step 0 and so needs the source as it was).
 *
 * What cannot transfer is refused with a ConfigError naming the field (exit 2): memory is token sequences
 * about one benchmark's problems, keyed by their ids, so the source must have the same domain, domain
 * seed and domain knobs, and the same vocabulary; model shape, base, seed and method are free.
 */
import { existsSync, readFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { ConfigError } from "../config/resolve.ts"
import type { RunConfig } from "../config/RunConfig.ts"
import { hashValue } from "../core/Hash.ts"
import { VOCAB_SIZE } from "../domains/vocab.ts"
import type { ExperienceItem } from "../memory/experience/experience.ts"
import type { Insight } from "../memory/insight/insights.ts"
import type { MempStore } from "../memory/memp/memp.ts"
import type { Sources } from "../memory/types.ts"
import type { MemoryState } from "../memory/state.ts"
import { DiskStore, INDEX_FILE } from "../memory/store/disk.ts"
import { type Version, VersionStore } from "../memory/store/Versions.ts"
import { VersionedMemory } from "../memory/versioned.ts"
import { usesMemory } from "../../actors/orchestrator/index.ts"
import { readRunCheckpoint } from "./checkpoint.ts"
import { readRunConfig } from "./resume.ts"
import { checkpointDir, checkpointSteps, FILES, hasMarker, type MemoryImportRecord, RunDirError } from "./runDir.ts"
import { domainSpec } from "./setup.ts"

const FIELD = "memory.importFrom"

/** The version label of the import commit (what `pmdsim report` and the store's log show). */
export const IMPORT_LABEL = "import"

const bad = (problem: string): ConfigError => new ConfigError({ message: `${FIELD}: ${problem}` })

/** `memory.importFrom` split into the run directory (as written) and the step; null when absent or "none". */
export const parseImportFrom = (value: string | undefined): { readonly dir: string; readonly step: number } | null => {
  if (value === undefined || value === "none") return null
  const at = value.lastIndexOf("@")
  const digits = value.slice(at + 1)
  const step = Number(digits)
  if (at <= 0 || !/^\d+$/.test(digits) || !Number.isSafeInteger(step)) {
    throw bad(`expected "RUN_DIR@STEP" (a run directory, "@", a checkpoint step) or "none", got ${JSON.stringify(value)}`)
  }
  return { dir: value.slice(0, at), step }
}

export interface ImportedMemory {
  readonly record: MemoryImportRecord
  readonly state: MemoryState
  readonly memp: MempStore
}

/** The vocabulary size the source's policy was built with (its checkpoint's model.json). */
const checkpointVocab = (dir: string, step: number): number | undefined => {
  const file = join(checkpointDir(dir, step), "model.json")
  try {
    const json = JSON.parse(readFileSync(file, "utf8")) as { userDefinedMetadata?: { pmdsim?: { config?: { vocabSize?: unknown } } } }
    const v = json.userDefinedMetadata?.pmdsim?.config?.vocabSize
    return typeof v === "number" ? v : undefined
  } catch (e) {
    throw bad(`${file}: unreadable (${(e as Error).message})`)
  }
}

const describeDomain = (spec: ReturnType<typeof domainSpec>): string =>
  `domain ${spec.name}, domainSeed ${spec.seed}, domain knobs ${JSON.stringify(spec.config ?? {})}`

/** What every imported rollout id is prefixed with (a memory imported twice gets it twice). */
export const IMPORTED_ROLLOUT_PREFIX = "import/"

/**
 * The source's memory with every rollout id it holds renamed `import/<id>`. Rollout ids name a step, a
 * problem and a sample index, not a run, so the target's own rollouts would reuse them: the experience
 * store and the Memp store refuse a rollout offered twice, and provenance would mix the two runs. Nothing
 * else changes: tokens, feedback, rewards, counters, steps (the source's: an imported success from its
 * step 50 stays "newer" than the target's own of equal reward until the target passes step 50, as
 * compose's recency tie-break reads it), insight and behavior ids (content hashes).
 */
export const relabelRollouts = (state: MemoryState, memp: MempStore): { readonly state: MemoryState; readonly memp: MempStore } => {
  const rid = (id: string): string => `${IMPORTED_ROLLOUT_PREFIX}${id}`
  const item = (i: ExperienceItem): ExperienceItem => ({ ...i, id: rid(i.id), prov: { ...i.prov, rolloutId: rid(i.prov.rolloutId) } })
  const sources = (s: Sources): Sources => ({ ...s, rolloutIds: s.rolloutIds.map(rid) })
  const insight = (i: Insight): Insight => ({ ...i, sources: sources(i.sources) })
  const experience = new Map([...state.experience].map(([k, e]) => [k, { ...e, successes: e.successes.map(item), failures: e.failures.map(item) }]))
  const insights = new Map([...state.insights].map(([k, i]) => [k, { ...i, strategies: i.strategies.map(insight), lessons: i.lessons.map(insight) }]))
  const behaviors = state.bank.behaviors.map((b) => ({ ...b, sources: sources(b.sources) }))
  // Memp item ids are `memp-<rollout id>` (memp.ts): renamed with their rollout, so the prefix keeps their order
  const items = memp.items.map((i) => ({ ...i, id: `memp-${rid(i.prov.rolloutId)}`, prov: { ...i.prov, rolloutId: rid(i.prov.rolloutId) } }))
  return { state: { experience, insights, bank: { ...state.bank, behaviors } }, memp: memp.items.length === 0 ? memp : { items } }
}

/**
 * Writes the imported memory as `vm`'s next commit (the run's first: step 0, policy version 0). The Memp
 * store is staged first so that it lands in the same version, as a Memp update does.
 */
export const commitImport = (vm: VersionedMemory, state: MemoryState, memp: MempStore): Version => {
  vm.stageMemp(memp)
  return vm.commit(state, { step: 0, policyVersion: 0 }, IMPORT_LABEL).version
}

/**
 * The memory `cfg.memory.importFrom` names, read and checked; null when there is none. `targetDir` is the
 * run being started (a run cannot import from itself). Every refusal is a ConfigError naming the field.
 */
export const readImportedMemory = (cfg: RunConfig, targetDir: string): ImportedMemory | null => {
  const ref = parseImportFrom(cfg.memory.importFrom)
  if (ref === null) return null
  if (!usesMemory(cfg) || cfg.method === "pmd-transient") {
    throw bad(`method ${cfg.method} keeps no memory from one step to the next, so an imported memory would never be read`)
  }
  const dir = resolve(ref.dir)
  if (dir === resolve(targetDir)) throw bad(`${dir} is this run's own directory`)
  if (!existsSync(dir)) throw bad(`${dir}: no such run directory`)
  if (!hasMarker(dir)) throw bad(`${dir} is not a pmdsim run directory (no ${FILES.marker})`)
  let source: RunConfig
  try {
    source = readRunConfig(dir)
  } catch (e) {
    throw bad(`${dir}: its config cannot be read (${(e as Error).message})`)
  }
  const steps = checkpointSteps(dir)
  if (!steps.includes(ref.step)) throw bad(`${dir} has no checkpoint at step ${ref.step} (available: ${steps.join(", ") || "none"})`)
  const mine = domainSpec(cfg)
  const theirs = domainSpec(source)
  if (hashValue(mine) !== hashValue(theirs)) {
    throw bad(`${dir} ran on another benchmark (${describeDomain(theirs)}; this run: ${describeDomain(mine)}): memory is tokens about one benchmark's problems, it transfers across models, not across domains`)
  }
  const vocab = checkpointVocab(dir, ref.step)
  if (vocab !== VOCAB_SIZE) {
    throw bad(`${dir} step ${ref.step} was written with a vocabulary of ${String(vocab)} tokens, this build has ${VOCAB_SIZE}: its memory's token ids mean other tokens here`)
  }
  let run
  try {
    run = readRunCheckpoint(dir, ref.step).run
  } catch (e) {
    throw bad(`${dir}: checkpoint step ${ref.step} cannot be read (${(e as Error).message})`)
  }
  if (run.memoryHead === "empty") throw bad(`${dir} holds no memory at step ${ref.step} (method ${source.method})`)
  let store: VersionStore
  try {
    store = DiskStore.open(join(dir, FILES.memory)).store
  } catch (e) {
    throw bad(`${join(dir, FILES.memory)}: the memory store cannot be read (${(e as Error).message})`)
  }
  if (!store.hasVersion(run.memoryHead)) {
    throw bad(`${join(dir, FILES.memory, INDEX_FILE)} lacks memory version ${run.memoryHead} named by checkpoint step ${ref.step}`)
  }
  // the checkpoint's Memp store is what a resume of the source would restore (applyCheckpoint)
  const { state, memp } = relabelRollouts(new VersionedMemory(store, run.memoryBranch).checkoutAll(run.memoryHead).state, run.memp)
  // what the import commit will hold, computed on a throw-away store: its content id goes into the marker
  const probeStore = VersionStore.empty()
  const probe = commitImport(new VersionedMemory(probeStore), state, memp)
  return {
    record: { dir, step: ref.step, sourceVersion: run.memoryHead, contentId: probe.root, entries: probeStore.read(probe.id).size },
    state,
    memp
  }
}

/**
 * A restart from step 0 of a run that imported memory (no checkpoint yet: a crash or a stop before the
 * first one) imports again; this refuses it when the source's memory is not the one the run started with
 * (the source was rerun, forked over, damaged), rather than continue the run on another memory.
 */
export const checkImportUnchanged = (dir: string, recorded: MemoryImportRecord | undefined, now: ImportedMemory | null): void => {
  if (now === null) return
  if (recorded === undefined) {
    throw new RunDirError({ dir, problem: `config.json sets ${FIELD} but the run marker records no imported memory: start the run again with --force` })
  }
  if (recorded.contentId !== now.record.contentId) {
    throw new RunDirError({
      dir,
      problem: `${FIELD}: the memory of ${now.record.dir} at step ${now.record.step} (content ${now.record.contentId.slice(0, 16)}) is not the one this run ` +
        `started with (content ${recorded.contentId.slice(0, 16)} from ${recorded.dir} at step ${recorded.step}, version ${recorded.sourceVersion.slice(0, 16)}): ` +
        `the source changed since, and this run has no checkpoint yet, so it would restart on another memory. Restore the source, or start the run again with --force`
    })
  }
}

/**
 * A fork starts from its source's checkpoint, memory included, and never imports: a fork that changes
 * `memory.importFrom` would claim a memory it does not have, so it is refused (when the source is still
 * there to compare with; a fork of a deleted source keeps whatever it was given).
 */
export const checkForkKeepsImport = (sourceDir: string, cfg: RunConfig): void => {
  let source: RunConfig
  try {
    source = readRunConfig(sourceDir)
  } catch {
    return
  }
  const before = source.memory.importFrom ?? "none"
  const after = cfg.memory.importFrom ?? "none"
  if (before !== after) {
    throw bad(`a fork starts from its source's memory at the fork step and imports nothing, so it cannot change ${FIELD} ` +
      `(${JSON.stringify(before)} -> ${JSON.stringify(after)}); import into a run that starts from step 0 instead`)
  }
}
