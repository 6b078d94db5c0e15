/**
 * The reflector actor's public entry: its behavior (built from its options: embedder, configs, starting
 * insights, plug-in) and its protocol. Other folders import this module (or protocol.ts), never the files beside it.
 */
export * from "./protocol.ts"
export { type ReflectorOptions, reflectorBehavior, type ReflectorState, reflectStep } from "./Reflector.ts"
