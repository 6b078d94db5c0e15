/**
 * Typed errors of the numeric layer. Every bad input to a public function fails with one of these
 * (an Error subclass with a `_tag`), never with a tfjs shape error deep inside a kernel.
 */

/** A model config, shape or argument that cannot be used. */
export class NumericInputError extends Error {
  readonly _tag = "NumericInputError"
  readonly where: string
  constructor(where: string, message: string) {
    super(`${where}: ${message}`)
    this.where = where
  }
}

/** A backend that cannot be selected or initialised. */
export class BackendError extends Error {
  readonly _tag = "BackendError"
  readonly backend: string
  constructor(backend: string, message: string) {
    super(`backend ${backend}: ${message}`)
    this.backend = backend
  }
}

/** A checkpoint that is missing, truncated, corrupted or does not match the expected model. */
export class CheckpointError extends Error {
  readonly _tag = "CheckpointError"
  readonly path: string
  constructor(path: string, message: string) {
    super(`checkpoint ${path}: ${message}`)
    this.path = path
  }
}
