/**
 * `pmdsim/testing`: fast-check arbitraries for procedural memory and the invariant batteries a memory
 * plug-in must pass. Each battery runs its invariants as one property and throws an InvariantViolation
 * naming the invariant, with the shrunk counterexample, so it works in vitest, node:test or a script:
 *
 *   import { checkConsolidator } from "pmdsim/testing"
 *   test("top-usage keeps the consolidator invariants", () => { checkConsolidator(topUsage) })
 *
 * fast-check is a peer dependency (install it beside your test runner).
 */
export * from "./arbitraries.ts"
export { Broken, holds, InvariantViolation, runBattery, type BatteryOptions, type BatteryReport } from "./battery.ts"
export { checkConsolidator, CONSOLIDATOR_INVARIANTS, type ConsolidatorCase, consolidatorCase } from "./consolidator.ts"
export { checkReflector, REFLECTOR_INVARIANTS, type ReflectorCase, reflectorCase } from "./reflector.ts"
export { checkMemoryPipeline, PIPELINE_INVARIANTS, type PipelineCase, pipelineCase } from "./pipeline.ts"
export { clip, showBank, showBehavior, showExperience, showGroups, showInsight, showInsights } from "./render.ts"
