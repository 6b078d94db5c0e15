/** pmdsim/testing is not tied to vitest: the batteries pass and fail under node:test too. */
import { spawnSync } from "node:child_process"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

describe("batteries under node:test", () => {
  it("node --test runs a battery that passes and one that catches a broken plug-in", () => {
    const r = spawnSync(process.execPath, ["--test", "--test-reporter=tap", join(import.meta.dirname, "fixtures", "nodeTest.ts")], { encoding: "utf8" })
    expect(r.status, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toMatch(/# pass 2/)
    expect(r.stdout).toMatch(/# fail 0/)
  })
})
