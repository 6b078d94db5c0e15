/**
 * The orchestrator's public entry: the composition root (`actorPorts` / `directPorts` from a
 * `PipelineInput` of data), one training step over the ports (`runStep`), evaluation, and the ports'
 * request and reply types (records of the actors' protocols).
 */
export { evaluate, evalProblems, evalSeedOf, PROTOCOLS } from "./evaluate.ts"
export { actorPorts, directPorts, type PipelineInput } from "./Pipeline.ts"
export type { MemoryRead, Ports, SampleBatch, SampleReply, UpdateRequest } from "./ports.ts"
export { type LoopState, type Outcome, rolloutId, runStep, type StepLineage, type StepResult, trainsPolicy, usesMemory } from "./step.ts"
