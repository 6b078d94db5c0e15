/**
 * One training run, end to end: resolve parts, start the actors (policy, teacher, memory, verifier
 * pool) in an ActorSystem, drive `steps` steps, evaluate every `eval.every`, checkpoint every
 * `checkpointEvery`, journal every step, and write summary.json.
 *
 * The per-step state hash covers the policy weights, the memory content and the deterministic part
 * of the step's metrics; `finalStateHash` is the last one. Timings (stageMs, throughput) are wall
 * clock, reported but never hashed, so results are bit-identical whatever the workers or load.
 */
import { Clock, Effect } from "effect"
import { join } from "node:path"
import type { RunConfig } from "../config/RunConfig.ts"
import { configHash, resultHash } from "../config/resolve.ts"
import { writeFileDurable } from "../core/durableFile.ts"
import { hashValue } from "../core/Hash.ts"
import { fmaFingerprint, initBackend } from "../numeric/index.ts"
import * as ActorSystem from "../runtime/ActorSystem.ts"
import { traced, TraceSink } from "../runtime/Trace.ts"
import * as Journal from "../runtime/Journal.ts"
import { DiskStore } from "../memory/store/disk.ts"
import { VersionedMemory } from "../memory/versioned.ts"
import { actorPorts, directPorts, evaluate, type LoopState, type Ports, runStep, usesMemory } from "../../actors/orchestrator/index.ts"
import type { EvalRow, MetricsRow, TrainRow } from "../protocol/metrics.ts"
import { writeRunCheckpoint } from "./checkpoint.ts"
import { applyCheckpoint, restoreCheckpoint } from "./restore.ts"
import { checkImportUnchanged, commitImport, type ImportedMemory, readImportedMemory } from "./importMemory.ts"
import { lineageWriter, truncateLineage } from "./lineage.ts"
import { rolloutsWriter, tapMemoryCalls, truncateRollouts } from "./memoryReplay/recorder.ts"
import { createdItems } from "./lineageCreated.ts"
import { appendMetrics, checkpointSteps, FILES, readMarker, removeOwnTemps, resetRunOutputs, RunDirError, truncateMetrics, writeMarker } from "./runDir.ts"
import { memoryQuality } from "./quality.ts"
import { buildParts, modelConfig, runBase } from "./setup.ts"
import { Plugins } from "../plugins/services.ts"

export interface Summary {
  readonly seed: number
  readonly method: string
  readonly domain: string
  readonly configHash: string
  readonly baseRecipeHash: string | null
  readonly steps: number
  readonly finalStateHash: string
  readonly policyHash: string
  readonly memoryId: string
  readonly final: { readonly train: TrainRow | null; readonly eval: ReadonlyArray<EvalRow> }
  /** steps on which memory.lag was clamped to the history there was (TrainRow.memoryLagClamped) */
  readonly memoryLagClampedSteps: number
}

export interface RunOptions {
  readonly cfg: RunConfig
  readonly dir: string
  /** continue from the newest checkpoint in `dir` */
  readonly resume: boolean
  /** run through supervised actors (default) or as a plain sequential loop (benchmark baseline) */
  readonly actors?: boolean
  /** set `requested` to stop after the current step with a checkpoint (SIGINT) */
  readonly stop?: { requested: boolean }
  /** stop (without a final checkpoint) after this many steps: tests of kill-and-resume */
  readonly haltAfter?: number
  readonly onRow?: (row: MetricsRow) => void
  /** time every step, evaluation and actor message into this sink (`--trace`; wall times, never hashed) */
  readonly trace?: TraceSink["Service"]
}

/**
 * A start from step 0: everything the run wrote before is removed (its marker and config excepted), the
 * marker is written first, then config.json. A resume with no checkpoint yet (a crash before the first)
 * comes here too, except for a fork, whose start is the source's checkpoint. With `memory.importFrom` the
 * source's memory is read here (and, on a restart, checked against what the marker recorded).
 */
const startAfresh = (dir: string, cfg: RunConfig, resuming: boolean): ImportedMemory | null => {
  let imported: ImportedMemory | null
  if (resuming) {
    const marker = readMarker(dir)
    if (marker.forkedFrom !== undefined) {
      throw new RunDirError({ dir, problem: `this fork of ${marker.forkedFrom.dir} at step ${marker.forkedFrom.step} did not complete (no checkpoint): fork again with --force` })
    }
    imported = readImportedMemory(cfg, dir)
    checkImportUnchanged(dir, marker.memoryImport, imported)
  } else imported = readImportedMemory(cfg, dir) // checked before the marker: a refused import leaves no run behind
  resetRunOutputs(dir)
  if (!resuming) writeMarker(dir, cfg, "run", undefined, imported?.record)
  writeFileDurable(join(dir, FILES.config), `${JSON.stringify(cfg, null, 2)}\n`)
  return imported
}

export const runTraining = (opts: RunOptions): Effect.Effect<Summary & { readonly halted: boolean }> =>
  Effect.scoped(Effect.gen(function*() {
    const { cfg, dir } = opts
    const backend = yield* Effect.promise(() => initBackend(cfg.backend, { threads: cfg.threads ?? 1, fma: cfg.numeric?.fma ?? false }))
    const ckSteps = opts.resume ? checkpointSteps(dir) : []
    const resumeFrom = ckSteps.length > 0 ? ckSteps[ckSteps.length - 1]! : null
    // read before the run directory is touched: a base not built leaves no run behind (the same command
    // works once it is built, with no --force)
    const base = runBase(cfg)
    const imported = resumeFrom === null ? startAfresh(dir, cfg, opts.resume) : null
    if (resumeFrom !== null) removeOwnTemps(dir)
    const restored = resumeFrom === null ? null : restoreCheckpoint(dir, cfg, resumeFrom)
    // memory lives in the run's snapshot store; a resume points its branch back at the checkpoint's head
    const disk = restored?.disk ?? DiskStore.open(join(dir, FILES.memory))
    const branch = restored?.branch ?? "main"
    const vm = new VersionedMemory(disk.store, branch)
    // memory.importFrom: another run's memory becomes this run's first version (importMemory.ts)
    if (imported !== null && commitImport(vm, imported.state, imported.memp).root !== imported.record.contentId) {
      throw new RunDirError({ dir, problem: "the imported memory's content differs from the one just read (a bug)" })
    }
    // the config's plug-in names, resolved in the registry in context (default: the process-wide one)
    const parts = buildParts(cfg, vm, yield* Plugins, base)
    const quality = memoryQuality(cfg, parts.domain, vm)
    const body = (ports: Ports) => Effect.gen(function*() {
      // a resume: the checkpoint's policy and memory flags go to the freshly started actors by message
      if (restored !== null) yield* applyCheckpoint(ports, restored)
      const recorder = yield* Journal.makeRecorder
      for (const e of restored?.run.journal ?? []) yield* recorder.recordDigest({ step: e.step, kind: e.kind, actor: e.actor, digest: e.digest })
      let state: LoopState = restored?.run.loop ?? { step: 0, policyVersion: 0, everSolved: [], pendingOutcomes: [] }
      // a resumed run keeps the metrics up to its checkpoint (no duplicates) and the last rows for its summary
      const kept = restored === null ? [] : truncateMetrics(dir, state.step)
      // lineage.jsonl follows the same discipline: cut back to the checkpoint, one record appended per step
      const lineage = lineageWriter(dir, restored === null ? [] : truncateLineage(dir, state.step))
      // rollouts.jsonl too: each step's memory call as the memory actor got it (memory-replay rebuilds memory from it)
      const rollouts = rolloutsWriter(dir, restored === null ? [] : truncateRollouts(dir, state.step))
      const tap = tapMemoryCalls(ports)
      // the memory as data (the memory actor's Export): immutable values, so the step's diff is by reference
      let memoryBefore = yield* ports.exportMemory
      const emit = (rows: ReadonlyArray<MetricsRow>) => {
        appendMetrics(dir, rows)
        for (const r of rows) opts.onRow?.(r)
      }
      const keptTrain = kept.filter((r): r is TrainRow => r.kind === "train")
      let lastTrain: TrainRow | null = keptTrain.at(-1) ?? null
      let clampedSteps = keptTrain.filter((r) => r.memoryLagClamped === true).length
      const evals = kept.filter((r): r is EvalRow => r.kind === "eval")
      let lastEval: ReadonlyArray<EvalRow> = evals.filter((r) => r.step === evals.at(-1)?.step)
      // the state hashes form a chain: a resumed run continues from the journal's last one
      const states = (restored?.run.journal ?? []).filter((e) => e.kind === "state")
      let stateHash = states.length > 0 ? states[states.length - 1]!.digest : hashValue(["start", cfg.seed])
      if (restored === null) {
        lastEval = quality(yield* evaluate(ports, cfg, parts.domain, 0))
        emit(lastEval)
      }
      const checkpoint = Effect.gen(function*() {
        const memory = yield* ports.exportMemory
        disk.save()
        const policy = yield* ports.exportPolicy
        const journal = yield* recorder.journal
        writeRunCheckpoint(dir, state.step, modelConfig(cfg), policy, {
          loop: state, memoryHead: cfg.method === "pmd-transient" ? "empty" : memory.newest.id, memoryBranch: branch,
          memoryFrozen: memory.frozen, memp: memory.memp, journal: journal.entries, resultHash: resultHash(cfg),
          // only in the fma mode (exact checkpoints keep their bytes): the machine these bits belong to
          ...(backend.fma ? { fmaFingerprint: fmaFingerprint() } : {})
        })
        yield* Journal.save(join(dir, FILES.journal), journal).pipe(Effect.orDie)
      })
      let halted = false
      while (state.step < cfg.steps) {
        const t0 = yield* Clock.currentTimeMillis
        const r = yield* traced("run", "step", runStep(tap.ports, cfg, parts.domain, parts.trainIds, state), (x) => ({ step: x.state.step }))
        if (r.metrics.verifyFailed > 0) {
          yield* Effect.logWarning(`step ${r.state.step}: ${r.metrics.verifyFailed} checks failed after every retry (reward 0); raise faults.timeoutSeconds if the machine is overloaded`)
        }
        state = r.state
        const memoryAfter = yield* ports.exportMemory
        const sizes = memoryAfter.sizes
        const created = createdItems(memoryBefore, memoryAfter)
        memoryBefore = memoryAfter
        const policyHash = yield* ports.policyHash
        const step = state.step
        for (const [actor, digest] of Object.entries(r.digests).sort()) yield* recorder.recordDigest({ step, kind: "message", actor, digest })
        stateHash = hashValue({ step, policyHash, memory: memoryAfter.contentId, loop: state, metrics: r.metrics /* no timings: those are in r.stageMs */, prev: stateHash })
        yield* recorder.recordDigest({ step, kind: "state", actor: "orchestrator", digest: stateHash })
        const wall = Math.max(1, (yield* Clock.currentTimeMillis) - t0)
        lastTrain = {
          kind: "train", step, rewardMean: r.metrics.rewardMean, loss: r.metrics.loss, gradNorm: r.metrics.gradNorm,
          entropy: r.metrics.entropy, teacherFraction: r.metrics.teacherFraction,
          everSolved: state.everSolved.length / parts.trainIds.length,
          memoryVersionRead: r.metrics.memoryVersionRead, memoryVersionNewest: r.metrics.memoryVersionNewest,
          memoryLag: r.metrics.memoryVersionRead < 0 ? 0 : r.metrics.memoryVersionNewest - r.metrics.memoryVersionRead,
          memoryLagClamped: r.metrics.memoryVersionRead >= 0 && r.metrics.memoryVersionNewest - r.metrics.memoryVersionRead < cfg.memory.lag,
          rolloutPolicyVersion: r.metrics.rolloutPolicyVersion, rolloutLag: r.metrics.rolloutLag,
          memorySizes: usesMemory(cfg) ? sizes : { experience: 0, insights: 0, behaviors: 0 },
          rolloutsPerSec: (r.metrics.rollouts * 1000) / wall, tokensPerSec: (r.metrics.tokens * 1000) / wall,
          stageMs: r.stageMs,
          ...quality.diagnostics(r.diagnostics, memoryAfter.state)
        }
        if (lastTrain.memoryLagClamped) clampedSteps++
        const rows: Array<MetricsRow> = [lastTrain]
        if (step % cfg.eval.every === 0 || step === cfg.steps) {
          lastEval = quality(yield* traced("run", "evaluate", evaluate(ports, cfg, parts.domain, step), () => ({ step })))
          rows.push(...lastEval)
          yield* recorder.record({ step, kind: "message", actor: "eval", value: lastEval.map((e) => [e.protocol, e.memoryFree, e.memoryAugmented]) })
        }
        emit(rows)
        lineage.append(step, r.lineage, created)
        rollouts.append(step, tap.take())
        if (opts.haltAfter !== undefined && step >= opts.haltAfter) {
          halted = true
          break
        }
        if (step % cfg.checkpointEvery === 0 || step === cfg.steps || opts.stop?.requested) yield* checkpoint
        if (opts.stop?.requested) {
          halted = true
          break
        }
      }
      return { stateHash, lastTrain, lastEval, halted, clampedSteps, policyHash: yield* ports.policyHash, memoryId: (yield* ports.exportMemory).contentId }
    })
    // the actors' state (the policy's tensors, the verifier's workers) is released when the ports' scope closes
    const loop = opts.actors === false
      ? Effect.scoped(Effect.flatMap(directPorts(parts.pipeline), body))
      : ActorSystem.run(Effect.scoped(Effect.gen(function*() {
        const ports = yield* actorPorts(parts.pipeline).pipe(Effect.orDie)
        return yield* body(ports)
      }))).pipe(Effect.orDie)
    const out = yield* (opts.trace === undefined ? loop : Effect.provideService(loop, TraceSink, opts.trace))
    const summary: Summary & { halted: boolean } = {
      seed: cfg.seed, method: cfg.method, domain: cfg.domain, configHash: configHash(cfg), baseRecipeHash: parts.baseHash,
      steps: cfg.steps, finalStateHash: out.stateHash, policyHash: out.policyHash, memoryId: out.memoryId,
      final: { train: out.lastTrain, eval: out.lastEval }, memoryLagClampedSteps: out.clampedSteps, halted: out.halted
    }
    if (!out.halted) {
      const { halted: _, ...rest } = summary
      writeFileDurable(join(dir, FILES.summary), `${JSON.stringify(rest, null, 2)}\n`)
    }
    return summary
  }))
