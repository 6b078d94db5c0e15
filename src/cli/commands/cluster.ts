/**
 * The cluster's client commands: `pmdsim status --cluster URL [SWEEP]` and `pmdsim pull --cluster URL
 * SWEEP --out DIR` (submitting is `pmdsim sweep --config F --cluster URL`, sweep.ts). They read pmdsim's
 * tables only, retrying while PostgreSQL is briefly away.
 */
import { Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { pgLayer, retryTransient } from "../../cluster/db.ts"
import { ClusterInputError } from "../../cluster/errors.ts"
import { pullSweep } from "../../cluster/pull.ts"
import { describeRun, describeRunner, findSweep, listRunners, listSweeps, sweepRuns } from "../../cluster/status.ts"
import { ensureSchema } from "../../cluster/schema.ts"
import { submitSweep } from "../../cluster/submit.ts"
import type { SweepSpec } from "../../experiments/sweep.ts"

const clusterFlag = Flag.String("cluster").pipe(Flag.withDescription("the cluster's PostgreSQL: postgres://user@host:port/db"))

/** `pmdsim sweep --config F --cluster URL [--name N]`: prints the sweep id and returns. */
export const submitToCluster = (spec: SweepSpec, name: string, url: string) =>
  (Effect.gen(function*() {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new ClusterInputError({ field: "--name", problem: `${JSON.stringify(name)}: use letters, digits, '.', '_' and '-'` })
    const { sweepId, runs } = yield* submitSweep(spec, name).pipe(Effect.provide(pgLayer("--cluster", url)))
    console.log(`sweep ${name}: ${runs.length} runs submitted`)
    console.log(sweepId)
  }))

export const statusCommand = Command.make("status", {
  cluster: clusterFlag,
  sweep: Argument.String("sweep").pipe(Argument.optional, Argument.withDescription("a sweep name or id (default: every sweep)"))
}, (f) => (Effect.gen(function*() {
  yield* retryTransient(ensureSchema)
  const sweeps = Option.isSome(f.sweep) ? [yield* retryTransient(findSweep(f.sweep.value))] : yield* retryTransient(listSweeps)
  for (const s of sweeps) {
    const runs = yield* retryTransient(sweepRuns(s.sweep_id))
    const count = (st: string) => runs.filter((r) => r.state === st).length
    console.log(`sweep ${s.name} ${s.sweep_id}: ${runs.length} runs, ${count("done")} done, ${count("running")} running, ${count("queued")} queued, ${count("failed")} failed`)
    for (const r of runs) console.log(`  ${r.name}  ${describeRun(r)}`)
  }
  const runners = yield* retryTransient(listRunners)
  console.log(`runners: ${runners.length}`)
  for (const w of runners) console.log(`  ${describeRunner(w)}`)
}).pipe(Effect.provide(pgLayer("--cluster", f.cluster))))).pipe(Command.withDescription("each run of a cluster sweep (queued / running at step k on runner R / done / failed) and each runner"))

export const pullCommand = Command.make("pull", {
  cluster: clusterFlag,
  sweep: Argument.String("sweep").pipe(Argument.withDescription("a sweep name or id")),
  out: Flag.String("out").pipe(Flag.withDescription("directory for the run directories (absent, empty, or an earlier pull's)"))
}, (f) => (Effect.gen(function*() {
  yield* retryTransient(ensureSchema)
  const r = yield* retryTransient(pullSweep(f.sweep, f.out))
  console.log(`pulled ${r.written.length} run(s) of sweep ${r.sweep.name} into ${f.out}`)
  if (r.skipped.length > 0) console.log(`not finished yet: ${r.skipped.join(", ")}`)
}).pipe(Effect.provide(pgLayer("--cluster", f.cluster))))).pipe(Command.withDescription("write a cluster sweep's finished runs as ordinary run directories"))
