import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

// Kept under test/ so that the repository's top level stays as DEVELOPERS.md lists it.
// Each test file runs in its own forked process: tfjs's engine, backend and tf.memory() are
// process-global, so numeric tests never share them.
export default defineConfig({
  root: fileURLToPath(new URL("..", import.meta.url)),
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ["default"]
  }
})
