/**
 * Typed errors of the pure snapshot store. Each is an Error subclass with a `_tag`, so pure callers can
 * switch on it and the Effect face (SnapshotStore.ts) can map it one-to-one onto a Schema.TaggedErrorClass.
 * Nothing in the store fails silently: a wrong file, a missing version or a diff that does not fit its
 * base raises one of these, never a best-effort result.
 */

/** A store file (pack or index) is not what it claims to be: foreign, truncated, bit-flipped, wrong version. */
export class SnapshotFileCorrupt extends Error {
  readonly _tag = "SnapshotFileCorrupt"
  readonly file: string
  readonly problem: string
  constructor(file: string, problem: string) {
    super(`snapshot file ${file} is corrupt: ${problem}`)
    this.file = file
    this.problem = problem
  }
}

/** The file system refused an operation (permissions, disk full, missing directory, injected fault). */
export class SnapshotIoError extends Error {
  readonly _tag = "SnapshotIoError"
  readonly file: string
  readonly problem: string
  constructor(file: string, problem: string) {
    super(`snapshot i/o failed on ${file}: ${problem}`)
    this.file = file
    this.problem = problem
  }
}

/** The store directory changed on disk since this process loaded or last saved it. */
export class SnapshotConflict extends Error {
  readonly _tag = "SnapshotConflict"
  readonly file: string
  constructor(file: string) {
    super(`snapshot index ${file} was changed by someone else since it was loaded; reload before saving`)
    this.file = file
  }
}

/** No version (or branch head) with this id or name. */
export class VersionNotFound extends Error {
  readonly _tag = "VersionNotFound"
  readonly ref: string
  constructor(ref: string) {
    super(`no snapshot version or branch named ${ref}`)
    this.ref = ref
  }
}

/** `fork` onto a branch name that already exists. */
export class BranchExists extends Error {
  readonly _tag = "BranchExists"
  readonly branch: string
  constructor(branch: string) {
    super(`branch ${branch} already exists`)
    this.branch = branch
  }
}

/** `applyDiff` on a map that is not the diff's base (a removed or changed key does not hold its old value). */
export class DiffConflict extends Error {
  readonly _tag = "DiffConflict"
  readonly key: string
  readonly problem: string
  constructor(key: string, problem: string) {
    super(`diff does not apply at key ${JSON.stringify(key)}: ${problem}`)
    this.key = key
    this.problem = problem
  }
}

/** A value or meta field the store cannot accept (unencodable value, bad meta). */
export class SnapshotInvalidInput extends Error {
  readonly _tag = "SnapshotInvalidInput"
  readonly problem: string
  constructor(problem: string) {
    super(`snapshot store: ${problem}`)
    this.problem = problem
  }
}

export type StoreError =
  | SnapshotFileCorrupt
  | SnapshotIoError
  | SnapshotConflict
  | VersionNotFound
  | BranchExists
  | DiffConflict
  | SnapshotInvalidInput
