import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, test } from "vitest"

// Each thread count needs its own process: the wasm backend (and its pthread pool) is made once.
const probe = fileURLToPath(new URL("./threadsProbe.ts", import.meta.url))
const run = (threads: number): { threads: number; weights: string; samples: string } =>
  JSON.parse(execFileSync(process.execPath, [probe, String(threads)], { encoding: "utf8", timeout: 100_000 }).trim().split("\n").pop()!)

describe("wasm XNNPACK threads", () => {
  test("1, 2 and 3 threads give bit-identical weights after training and identical samples", () => {
    const [one, two, three] = [1, 2, 3].map(run)
    // the pool really has the requested size (tfjs alone would make 1 on a 2-core machine)
    expect([one!.threads, two!.threads, three!.threads]).toEqual([1, 2, 3])
    expect(two!.weights).toBe(one!.weights)
    expect(three!.weights).toBe(one!.weights)
    expect(two!.samples).toBe(one!.samples)
    expect(three!.samples).toBe(one!.samples)
  })
})
