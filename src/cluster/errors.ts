/** Typed failures of the cluster commands. All are bad input or a refused cluster: exit 2 (src/cli/commands/clusterExit.ts). */
import { Schema } from "effect"

/** A flag or file the user gave is wrong; `field` names it. */
export class ClusterInputError extends Schema.TaggedError<ClusterInputError>()("ClusterInputError", { field: Schema.String, problem: Schema.String }) {
  override get message(): string {
    return `${this.field}: ${this.problem}`
  }
}

/** The cluster's database records another pmdsim version or base recipe hash than this process has. */
export class ClusterMismatch extends Schema.TaggedError<ClusterMismatch>()("ClusterMismatch", {
  field: Schema.String,
  cluster: Schema.String,
  local: Schema.String
}) {
  override get message(): string {
    return `this cluster runs ${this.field} ${this.cluster}, this process has ${this.local}: refused (a run never mixes code versions; use another database or the matching pmdsim)`
  }
}

/** A sweep name already used for another config. */
export class SweepNameTaken extends Schema.TaggedError<SweepNameTaken>()("SweepNameTaken", { name: Schema.String, sweepId: Schema.String }) {
  override get message(): string {
    return `sweep name ${JSON.stringify(this.name)} is already used by sweep ${this.sweepId} with a different config: choose another --name`
  }
}

/** A run that failed on its runner (its child exited non-zero, or its files could not be stored). */
export class RunFailed extends Schema.TaggedError<RunFailed>()("RunFailed", { runId: Schema.String, message: Schema.String }) {}
