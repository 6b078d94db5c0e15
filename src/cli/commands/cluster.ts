/**
 * The cluster's client commands: `pmdsim status --cluster URL [SWEEP]` and `pmdsim pull --cluster URL
 * SWEEP --out DIR` (submitting is `pmdsim sweep --config F --cluster URL`, sweep.ts). They read pmdsim's
 * tables only, retrying while PostgreSQL is briefly away. The work is in clusterHandlers.ts, loaded when a
 * cluster command runs.
 */
import { Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import type { SweepSpec } from "../../experiments/sweep.ts"

const handlers = Effect.promise(() => import("./clusterHandlers.ts"))

const clusterFlag = Flag.String("cluster").pipe(Flag.withDescription("the cluster's PostgreSQL: postgres://user@host:port/db"))

/** `pmdsim sweep --config F --cluster URL [--name N] [--retry-failed]`: prints the sweep id and returns. */
export const submitToCluster = (spec: SweepSpec, name: string, url: string, retryFailed: boolean) =>
  Effect.flatMap(handlers, (h) => h.submitToCluster(spec, name, url, retryFailed))

export const statusCommand = Command.make("status", {
  cluster: clusterFlag,
  sweep: Argument.String("sweep").pipe(Argument.optional, Argument.withDescription("a sweep name or id (default: every sweep)"))
}, (f) => Effect.flatMap(handlers, (h) => h.showStatus(f.cluster, f.sweep))).pipe(
  Command.withDescription("each run of a cluster sweep (queued / running at step k on runner R / done / failed) and each runner")
)

export const pullCommand = Command.make("pull", {
  cluster: clusterFlag,
  sweep: Argument.String("sweep").pipe(Argument.withDescription("a sweep name or id")),
  out: Flag.String("out").pipe(Flag.withDescription("directory for the run directories (absent, empty, or an earlier pull's)"))
}, (f) => Effect.flatMap(handlers, (h) => h.pullRuns(f.cluster, f.sweep, f.out))).pipe(
  Command.withDescription("write a cluster sweep's finished runs as ordinary run directories")
)
