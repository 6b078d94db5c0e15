/** checkMemoryPipeline passes the built-in pipeline and catches broken plug-ins swapped into it. */
import { describe, expect, it } from "vitest"
import { checkMemoryPipeline, InvariantViolation, PIPELINE_INVARIANTS } from "../../src/testing/index.ts"
import { brokenConsolidators, greedyRetriever } from "./broken.ts"

const invariantOf = (f: () => unknown): { invariant: string; message: string } => {
  try {
    f()
  } catch (e) {
    if (e instanceof InvariantViolation) return e
    throw e
  }
  throw new Error("the battery passed a broken pipeline")
}

describe("checkMemoryPipeline", () => {
  it("passes the built-in plug-ins on 100 step sequences", () => {
    expect(checkMemoryPipeline({}, { numRuns: 100 }).invariants).toEqual(PIPELINE_INVARIANTS)
  })

  it("catches a retriever that shows K + 1 behaviors", () => {
    const e = invariantOf(() => checkMemoryPipeline({ retriever: greedyRetriever }))
    expect(e.invariant).toBe("retrieval returns at most K items of the pinned version")
    expect(e.message).toMatch(/retriever 'k-plus-one' returned \d+ behaviors/)
    expect(e.message).toMatch(/step \d+: consolidate true/)
  })

  it("catches a consolidator over capacity inside the pipeline", () => {
    const e = invariantOf(() => checkMemoryPipeline({ consolidator: brokenConsolidators.find((b) => b.breaks === "caps")!.plugin }))
    expect(e.invariant).toBe("caps")
    expect(e.message).toContain("consolidator 'off-by-one' returned")
  })
})
