/**
 * Promise helpers for code that does not use Effect: each runs its Effect with the process-wide plug-in
 * registry (registerPlugins) and rejects with the typed error (`_tag`, `message`) on failure.
 */
import { Effect } from "effect"
import { fork, type ForkOptions } from "./fork.ts"
import { memoryReplay, type MemoryReplayOptions, type MemoryReplayResult } from "./memoryReplay.ts"
import { replay, type ReplayResult } from "./replay.ts"
import { report, type ReportFiles } from "./report.ts"
import { resume, run, type RunOptions, type RunSummary, type TrainOptions } from "./run.ts"
import { sweep, type SweepOptions, type SweepResult } from "./sweep.ts"

/** Rejects with the error itself (not a wrapper), so `catch (e) { e._tag }` works. */
const promise = <A, E>(eff: Effect.Effect<A, E>): Promise<A> =>
  Effect.runPromise(Effect.result(eff)).then((r) => (r._tag === "Success" ? r.success : Promise.reject(r.failure)))

export const runPromise = (options: RunOptions): Promise<RunSummary> => promise(run(options))
export const resumePromise = (options: TrainOptions & { readonly out: string }): Promise<RunSummary> => promise(resume(options))
export const sweepPromise = (options: SweepOptions): Promise<SweepResult> => promise(sweep(options))
export const replayPromise = (options: { readonly dir: string }): Promise<ReplayResult> => promise(replay(options))
export const forkPromise = (options: ForkOptions): Promise<RunSummary> => promise(fork(options))
export const reportPromise = (options: { readonly dir: string }): Promise<ReportFiles> => promise(report(options))
export const memoryReplayPromise = (options: MemoryReplayOptions): Promise<MemoryReplayResult> => promise(memoryReplay(options))
