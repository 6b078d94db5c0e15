/** The verifier pool's messages live with the other actors' protocols, in src/protocol/verifier.ts. */
export * from "../../src/protocol/verifier.ts"
