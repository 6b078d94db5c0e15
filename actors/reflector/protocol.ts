/** The reflector's inbox, replies and record schemas live with the other protocols, in src/protocol/reflector.ts. */
export * from "../../src/protocol/reflector.ts"
