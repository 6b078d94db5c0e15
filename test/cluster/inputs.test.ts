/** Bad input to the cluster commands: exit 2 and a message naming the flag, before any connection is made. */
import { rmSync } from "node:fs"
import { afterAll, describe, expect, it } from "vitest"
import { cli, tmp } from "../experiments/cliHelpers.ts"
import { TINY_SET, writeSweepFile } from "./harness.ts"

const dir = tmp("cluster-inputs")
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const sweep = writeSweepFile(dir, "s.json", { preset: "tiny", set: TINY_SET, methods: ["grpo"], seeds: [1] })
const URL = "postgres://postgres@127.0.0.1:1/postgres" // never reached: every case fails before connecting

describe("cluster command inputs", () => {
  it.each([
    [["status", "--cluster", "mysql://x/y"], "--cluster: \"mysql://x/y\" is not a postgres:// URL"],
    [["runner", "--db", URL, "--capacity", "0"], "--capacity: must be in [1, 256], got 0"],
    [["runner", "--db", URL, "--port", "70000"], "--port: must be in [1, 65535], got 70000"],
    [["sweep", "--config", sweep, "--cluster", URL, "--out", "x"], "--out: cannot be combined with --cluster"],
    [["sweep", "--config", sweep, "--cluster", URL, "--name", "a b"], "--name: \"a b\""],
    [["sweep", "--config", sweep], "--out: missing"]
  ])("pmdsim %j exits 2", (args, message) => {
    const r = cli(args)
    expect(r.status, r.stdout + r.stderr).toBe(2)
    expect(r.stderr).toContain(message)
  }, 60_000)
})
