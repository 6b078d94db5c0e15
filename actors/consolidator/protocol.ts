/** The consolidator's inbox and replies live with the other protocols, in src/protocol/consolidator.ts. */
export * from "../../src/protocol/consolidator.ts"
