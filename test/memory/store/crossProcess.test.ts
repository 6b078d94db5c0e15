import { describe, expect, it } from "vitest"
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { PMap } from "../../../src/memory/store/PMap.ts"
import { entries } from "./fixtures/sample.ts"

const root = fileURLToPath(new URL("../../..", import.meta.url))
const node = `${root}/node_modules/.bin/node`
const script = fileURLToPath(new URL("./fixtures/printIds.ts", import.meta.url))

const idsIn = (order: string): { map: string; v0: string; v1: string } =>
  JSON.parse(execFileSync(node, [script, order], { cwd: root, encoding: "utf8" }))

describe("ids across processes", () => {
  it("other processes, building in other insertion orders, print the same map and version ids", () => {
    const here = PMap.fromEntries(entries)
    const runs = ["forward", "reverse", "interleaved"].map(idsIn)
    for (const r of runs) expect(r).toStrictEqual(runs[0])
    expect(runs[0]!.map).toBe(here.id)
  })

  it("ids are pinned: a change of node encoding or hashing must be deliberate (saved stores depend on it)", () => {
    expect(PMap.empty().id).toBe("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    expect(PMap.fromEntries<unknown>([["b", { x: [1, 2] }], ["a", 1]]).id).toBe(
      "8834db35716853d97cf0348514c57e6c1a0d66571d49cceaf18cb6f6374c3e44"
    )
  })
})
