import { expect, test } from "vitest"
import { BackendError, backendInfo, initBackend } from "../../src/numeric/index.ts"

test("wasm is selectable, SIMD, known deterministic; cpu too; missing native packages fail with BackendError", async () => {
  const w = await initBackend("wasm")
  expect(w).toMatchObject({ name: "wasm", tfBackend: "wasm", deterministic: true, simd: true, threads: 1 })
  expect(backendInfo()).toEqual(w)
  const c = await initBackend("cpu")
  expect(c).toMatchObject({ name: "cpu", tfBackend: "cpu", deterministic: true })
  await expect(initBackend("tfjs-node")).rejects.toBeInstanceOf(BackendError)
  // auto falls back to wasm when no native package is installed
  const a = await initBackend("auto")
  expect(["wasm", "tfjs-node", "tfjs-node-gpu"]).toContain(a.name)
  expect(backendInfo().name).toBe(a.name)
})

test("a thread count that is not a positive integer is a BackendError", async () => {
  for (const threads of [0, -1, 1.5, Number.NaN]) await expect(initBackend("wasm", { threads })).rejects.toBeInstanceOf(BackendError)
})
