/**
 * Atomic file writes for checkpoints: the project's one file layer (core/durableFile.ts: temp file, full
 * write, fsync, rename, directory fsync). A reader sees the old file or the new one, never a torn one.
 */
export { writeFileDurable as writeFileAtomic } from "../../core/durableFile.ts"
