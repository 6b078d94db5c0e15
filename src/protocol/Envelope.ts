/**
 * The wire envelope: how a message addressed to an actor arrives from outside the process (a socket,
 * a file, a CLI). The body stays `unknown` here; the addressed actor's inbox schema validates it at
 * the boundary (`ActorRef.tellUnknown`), so a bad body fails with `InvalidMessage` naming the actor.
 */
import { Schema } from "effect"

export const WireEnvelope = Schema.Struct({
  /** Name of the addressed actor. */
  to: Schema.String,
  /** Sender's name, for canonical merges (order by sender and its ids, never by arrival). */
  from: Schema.String,
  /** The sender's own sequence number for this message: with `from`, a stable id. */
  seq: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)),
  body: Schema.Unknown
})
export type WireEnvelope = typeof WireEnvelope.Type
