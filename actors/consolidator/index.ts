/**
 * The consolidator actor's public entry: its behavior (built from its options: embedders, config,
 * starting bank, plug-in) and its protocol. Other folders import this module (or protocol.ts), never the
 * files beside it.
 */
export * from "./protocol.ts"
export { type ConsolidatorOptions, consolidatorBehavior, type ConsolidatorState } from "./Consolidator.ts"
