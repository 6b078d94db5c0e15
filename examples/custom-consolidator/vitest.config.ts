import { defineConfig } from "vitest/config"

// the simulation test trains a tiny model: minutes on a busy machine, not milliseconds
export default defineConfig({ test: { include: ["test/**/*.test.ts"], testTimeout: 600_000 } })
