/**
 * Content hashes: sha-256 over canonical codec bytes (Codec.ts), as lowercase hex.
 * Every id that names content (snapshot versions, journal digests, state hashes) is one of these.
 */
import { createHash } from "node:crypto"
import { encode } from "./Codec.ts"

/** sha-256 of raw bytes, hex. */
export const sha256Hex = (bytes: Uint8Array | string): string => createHash("sha256").update(bytes).digest("hex")

/** sha-256 of the canonical encoding of a value, hex. Equal values, equal hashes. */
export const hashValue = (value: unknown): string => sha256Hex(encode(value))

/** Short form for logs and tables (first 16 hex digits). */
export const shortHash = (hex: string): string => hex.slice(0, 16)
