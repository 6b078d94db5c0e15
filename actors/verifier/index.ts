/**
 * The verifier pool's public entry: the pool (built from `PoolOptions`: the domain spec, workers, faults,
 * time-outs; released with its scope), the actor over it, and its protocol. Other folders import this
 * module (or protocol.ts), never the files beside it.
 */
export * from "./protocol.ts"
export { makePool, type PoolOptions, type PoolStats, type VerifierPool } from "./pool.ts"
export { spawnVerifier, verifierBehavior, VerifierPoolService, type VerifierRef, type VerifierState } from "./Verifier.ts"
