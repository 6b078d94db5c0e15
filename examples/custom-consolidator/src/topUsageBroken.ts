/**
 * A deliberately broken variant of top-usage, for the test suite: a "grace period" that exempts
 * never-used behaviors from the cut, so the bank outgrows its capacity. checkConsolidator must catch it
 * (invariant "caps") and print a shrunk counterexample.
 */
import type { ConsolidatorPlugin } from "pmdsim/plugins"
import { makeTopUsage } from "./topUsage.ts"

export const topUsageBroken: ConsolidatorPlugin = makeTopUsage("top-usage-grace", (ranked, capacity) => [
  ...ranked.filter((b) => b.hits > 0).slice(0, capacity),
  // BUG (on purpose): new behaviors "deserve a chance" and are kept whatever the capacity
  ...ranked.filter((b) => b.hits === 0)
])
