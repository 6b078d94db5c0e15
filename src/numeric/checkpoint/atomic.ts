/**
 * Atomic file writes: write to a temporary sibling, fsync, rename over the target. A reader sees the
 * old file or the new one, never a torn one.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs"

export const writeFileAtomic = (path: string, bytes: Uint8Array): void => {
  const tmp = `${path}.tmp-${process.pid}`
  const fd = openSync(tmp, "w")
  try {
    let off = 0
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, path)
}
