/**
 * The Effect face of the snapshot store: a `SnapshotStore` service over the pure VersionStore
 * (Versions.ts), in memory (`layer`) or bound to a directory (`layerFile`, disk.ts).
 *
 * Every operation is one synchronous call into the pure core, so operations are atomic with respect to
 * other fibers and their order is the order the caller's fibers run them (callers keep that canonical).
 * The pure core's typed errors become the Schema.TaggedError classes below, with the same `_tag`s; any
 * other throw is a bug and surfaces as a defect. With `layerFile(dir)` every commit and fork is saved
 * before the effect returns (unless `autoSave: false`, then call `save`).
 */
import { Context, Effect, Layer, Schema } from "effect"
import type { Diff } from "./diff.ts"
import * as Pure from "./errors.ts"
import { DiskStore, type SaveReport } from "./disk.ts"
import type { FsLike } from "./fileFormat.ts"
import type { PMap } from "./PMap.ts"
import { type CommitResult, type Version, type VersionMeta, VersionStore } from "./Versions.ts"

/** A store file is foreign, truncated, bit-flipped or of an unknown format version. */
export class SnapshotFileCorrupt extends Schema.TaggedError<SnapshotFileCorrupt>()("SnapshotFileCorrupt", {
  file: Schema.String,
  problem: Schema.String
}) {}

/** The file system refused a read or write. */
export class SnapshotIoError extends Schema.TaggedError<SnapshotIoError>()("SnapshotIoError", {
  file: Schema.String,
  problem: Schema.String
}) {}

/** The directory's index changed under this process since it was loaded. */
export class SnapshotConflict extends Schema.TaggedError<SnapshotConflict>()("SnapshotConflict", {
  file: Schema.String
}) {}

/** No version with this id, and no branch with this name. */
export class VersionNotFound extends Schema.TaggedError<VersionNotFound>()("VersionNotFound", {
  ref: Schema.String
}) {}

/** `fork` onto an existing branch name. */
export class BranchExists extends Schema.TaggedError<BranchExists>()("BranchExists", {
  branch: Schema.String
}) {}

/** A value or meta the store cannot accept. */
export class SnapshotInvalidInput extends Schema.TaggedError<SnapshotInvalidInput>()("SnapshotInvalidInput", {
  problem: Schema.String
}) {}

export type SnapshotFileError = SnapshotFileCorrupt | SnapshotIoError | SnapshotConflict
export type SnapshotStoreError = SnapshotFileError | VersionNotFound | BranchExists | SnapshotInvalidInput

const toTagged = (e: unknown): SnapshotStoreError | undefined => {
  if (e instanceof Pure.SnapshotFileCorrupt) return new SnapshotFileCorrupt({ file: e.file, problem: e.problem })
  if (e instanceof Pure.SnapshotIoError) return new SnapshotIoError({ file: e.file, problem: e.problem })
  if (e instanceof Pure.SnapshotConflict) return new SnapshotConflict({ file: e.file })
  if (e instanceof Pure.VersionNotFound) return new VersionNotFound({ ref: e.ref })
  if (e instanceof Pure.BranchExists) return new BranchExists({ branch: e.branch })
  if (e instanceof Pure.SnapshotInvalidInput) return new SnapshotInvalidInput({ problem: e.problem })
  return undefined
}

/** Runs a pure-core call; its documented errors (E) go to the error channel, anything else is a defect. */
const lift = <A, E extends SnapshotStoreError = never>(f: () => A): Effect.Effect<A, E> =>
  Effect.try({ try: f, catch: (e) => e }).pipe(
    Effect.catch((e) => {
      const tagged = toTagged(e)
      return tagged === undefined ? Effect.die(e) : Effect.fail(tagged as E)
    })
  )

export interface SnapshotStoreShape {
  /** Commits `map` on `branch` (parent = its head); saved at once by an autosaving file layer. */
  readonly commit: (
    branch: string,
    map: PMap<unknown>,
    meta: VersionMeta
  ) => Effect.Effect<CommitResult, SnapshotInvalidInput | SnapshotFileError>
  /** The head of `branch`, or undefined when it has no commit. */
  readonly head: (branch: string) => Effect.Effect<Version | undefined>
  /** A version by id or branch name. */
  readonly version: (ref: string) => Effect.Effect<Version, VersionNotFound>
  /** The map at a version (id or branch name). */
  readonly read: <V = unknown>(ref: string) => Effect.Effect<PMap<V>, VersionNotFound>
  /** History from `ref` back, newest first. */
  readonly log: (ref: string, limit?: number) => Effect.Effect<ReadonlyArray<Version>, VersionNotFound>
  /** Sorted {added, removed, changed} from `a` to `b`; skips shared subtrees. */
  readonly diff: <V = unknown>(a: string, b: string) => Effect.Effect<Diff<V>, VersionNotFound>
  /** Starts `branch` at version `from`, sharing all nodes. */
  readonly fork: (from: string, branch: string) => Effect.Effect<Version, VersionNotFound | BranchExists | SnapshotFileError>
  /** Commits from ancestor `from` to `to` (staleness), undefined if `from` is not an ancestor. */
  readonly distance: (from: string, to: string) => Effect.Effect<number | undefined, VersionNotFound>
  /** Branch names and head ids, sorted by name. */
  readonly branches: Effect.Effect<ReadonlyArray<readonly [string, string]>>
  /** Writes what is new to disk (a no-op report in memory). */
  readonly save: Effect.Effect<SaveReport, SnapshotFileError>
  /** Folds the directory's packs into one (a no-op report in memory). */
  readonly compact: Effect.Effect<SaveReport, SnapshotFileError>
  /** Sizes for metrics: stored versions, distinct nodes (all versions), branches. */
  readonly stats: Effect.Effect<{ readonly versions: number; readonly nodes: number; readonly branches: number }>
}

const noSave: SaveReport = { pack: null, nodesWritten: 0, versionsWritten: 0, bytesWritten: 0 }

/** The service over a pure store, optionally persisted by `disk` (which must wrap the same store). */
export const make = (store: VersionStore, disk?: DiskStore, autoSave: boolean = true): SnapshotStoreShape => {
  const persist = <A>(a: A): A => {
    if (disk !== undefined && autoSave) disk.save()
    return a
  }
  return {
    commit: (branch, map, meta) => lift(() => persist(store.commit(branch, map, meta))),
    head: (branch) => Effect.sync(() => store.head(branch)),
    version: (ref) => lift(() => store.resolve(ref)),
    read: <V>(ref: string) => lift<PMap<V>, VersionNotFound>(() => store.read<V>(ref)),
    log: (ref, limit) => lift(() => store.log(ref, limit)),
    diff: <V>(a: string, b: string) => lift<Diff<V>, VersionNotFound>(() => store.diff<V>(a, b)),
    fork: (from, branch) => lift(() => persist(store.fork(from, branch))),
    distance: (from, to) => lift(() => store.distance(from, to)),
    branches: Effect.sync(() => store.branches()),
    save: lift(() => (disk === undefined ? noSave : disk.save())),
    compact: lift(() => (disk === undefined ? noSave : disk.compact())),
    stats: Effect.sync(() => ({ versions: store.versionCount, nodes: store.nodeCount, branches: store.branches().length }))
  }
}

export interface FileLayerOptions {
  /** Save after every commit and fork (default true). */
  readonly autoSave?: boolean
  /** File operations (tests inject faults here). */
  readonly fs?: FsLike
}

export class SnapshotStore extends Context.Service<SnapshotStore, SnapshotStoreShape>()("pmdsim/memory/SnapshotStore") {
  /** A fresh, empty, in-memory store. */
  static readonly layer: Layer.Layer<SnapshotStore> = Layer.effect(
    SnapshotStore,
    Effect.sync(() => SnapshotStore.of(make(VersionStore.empty())))
  )

  /** A store loaded from (and saved to) `dir`; fails if the directory holds a corrupt store. */
  static readonly layerFile = (
    dir: string,
    options: FileLayerOptions = {}
  ): Layer.Layer<SnapshotStore, SnapshotFileCorrupt | SnapshotIoError> =>
    Layer.effect(
      SnapshotStore,
      lift<DiskStore, SnapshotFileCorrupt | SnapshotIoError>(() =>
        DiskStore.open(dir, options.fs === undefined ? {} : { fs: options.fs })
      ).pipe(Effect.map((disk) => SnapshotStore.of(make(disk.store, disk, options.autoSave ?? true))))
    )
}
