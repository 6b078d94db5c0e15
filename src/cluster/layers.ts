/**
 * The cluster layers: a runner (socket server, shards, the Run entity and the Sweep workflow) and a client
 * (no port, no shards: it only sends). Storage is "byo" so the cluster's tables carry our prefix
 * (identity.ts: CLUSTER_PREFIX), which also separates the advisory-lock namespace per pmdsim version.
 * Both need a SqlClient (db.ts).
 */
import * as NodeClusterSocket from "@effect/platform-node/NodeClusterSocket"
import * as NodeCrypto from "@effect/platform-node/NodeCrypto"
import { Layer, Option } from "effect"
import { ClusterWorkflowEngine, RunnerAddress, ShardingConfig, SqlMessageStorage, SqlRunnerStorage } from "effect/cluster"
import { CLUSTER_PREFIX } from "./identity.ts"
import { RunEntityLayer } from "./runEntity.ts"
import { SweepLayer } from "./sweepWorkflow.ts"

/**
 * Message storage polls every 2 s instead of 10 s: a persisted message saved before its sender learned
 * the shard owners (a client's start-up race, design doc §3c) waits for this poll. One indexed query per
 * poll per runner. Lock timings stay at their defaults, which held up on a loaded 2-core machine.
 */
const COMMON: Partial<ShardingConfig.ShardingConfig["Service"]> = { entityMessagePollInterval: "2 seconds" }

const storage = (shardingConfig: Partial<ShardingConfig.ShardingConfig["Service"]>) =>
  Layer.mergeAll(
    SqlMessageStorage.layerWith({ prefix: CLUSTER_PREFIX }).pipe(Layer.provide(NodeCrypto.layerDigest)),
    Layer.orDie(SqlRunnerStorage.layerWith({ prefix: CLUSTER_PREFIX }))
  ).pipe(Layer.provide(ShardingConfig.layerFromEnv(shardingConfig)))

export interface RunnerOptions {
  /** the address other runners and clients reach this one at (its identity in the cluster) */
  readonly host: string
  readonly port: number
  readonly capacity: number
}

const isLoopback = (host: string) => host === "localhost" || host.startsWith("127.") || host === "::1"

/** A runner: hosts a share of the shards proportional to its capacity, runs at most `capacity` runs at once. */
export const runnerLayer = (o: RunnerOptions) => {
  const shardingConfig = {
    ...COMMON,
    runnerAddress: Option.some(RunnerAddress.make(o.host, o.port)),
    // a routable address is listened on all interfaces (the address may be a NAT'd or DNS name)
    runnerListenAddress: Option.some(RunnerAddress.make(isLoopback(o.host) ? o.host : "0.0.0.0", o.port)),
    runnerShardWeight: o.capacity
  }
  const cluster = NodeClusterSocket.layer({ storage: "byo", shardingConfig }).pipe(Layer.provideMerge(storage(shardingConfig)))
  return Layer.mergeAll(RunEntityLayer(o.capacity, `${o.host}:${o.port}`), SweepLayer).pipe(
    Layer.provide(ClusterWorkflowEngine.layer),
    Layer.provide(cluster)
  )
}

/** A client: submits workflows; it opens no port and holds no shards. */
export const clientLayer = () => {
  const shardingConfig = { ...COMMON }
  const cluster = NodeClusterSocket.layer({ storage: "byo", clientOnly: true, shardingConfig }).pipe(Layer.provideMerge(storage(shardingConfig)))
  return ClusterWorkflowEngine.layer.pipe(Layer.provideMerge(cluster))
}
