/** The tiny simulation of simulate.ts, end to end through the installed package (its compiled JS, base checkpoint and wasm). */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { CAPACITY, simulate } from "../simulate.ts"

describe("a tiny PMD run with top-usage", () => {
  it("trains, keeps the bank within capacity, and replays bit for bit", async () => {
    const s = await simulate(join(mkdtempSync(join(tmpdir(), "top-usage-")), "run"))
    expect(s.summary.halted).toBe(false)
    expect(s.summary.steps).toBe(3)
    expect(s.behaviors.length).toBe(3)
    expect(Math.max(...s.behaviors)).toBeLessThanOrEqual(CAPACITY)
    expect(s.replayIdentical).toBe(true)
  })
})
