/**
 * Typed errors of the actor runtime. Each names the actor (or file) it concerns, so a failure in a
 * system of many actors says where it happened without a stack trace.
 *
 * Expected failures travel in the error channel; defects (bugs, injected faults) are handled by
 * supervision (Actor.ts) and only surface as `RestartBudgetExhausted` when restarts run out.
 */
import { Schema } from "effect"

/** The actor is stopped (budget exhausted, or its system's scope closed): the message was not handled. */
export class ActorStopped extends Schema.TaggedError<ActorStopped>()("ActorStopped", {
  actor: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `actor ${this.actor} is stopped: ${this.reason}`
  }
}

/** No reply within the ask's timeout, measured on Effect's Clock. The message may still be handled later. */
export class AskTimeout extends Schema.TaggedError<AskTimeout>()("AskTimeout", {
  actor: Schema.String,
  timeoutMillis: Schema.Number
}) {
  override get message(): string {
    return `ask to actor ${this.actor} timed out after ${this.timeoutMillis} ms`
  }
}

/** A message from outside the process failed the actor's inbox schema; `problem` is the schema issue. */
export class InvalidMessage extends Schema.TaggedError<InvalidMessage>()("InvalidMessage", {
  actor: Schema.String,
  problem: Schema.String
}) {
  override get message(): string {
    return `invalid message for actor ${this.actor}: ${this.problem}`
  }
}

/** An actor crashed more often than its supervision policy allows; fatal for the whole system. */
export class RestartBudgetExhausted extends Schema.TaggedError<RestartBudgetExhausted>()("RestartBudgetExhausted", {
  actor: Schema.String,
  restarts: Schema.Number,
  lastReason: Schema.String
}) {
  override get message(): string {
    return `actor ${this.actor} exhausted its restart budget after ${this.restarts} restarts; ` +
      `last crash: ${this.lastReason}`
  }
}

/** Two actors with the same name in one system: names key journals and canonical ordering. */
export class DuplicateActor extends Schema.TaggedError<DuplicateActor>()("DuplicateActor", {
  actor: Schema.String
}) {
  override get message(): string {
    return `an actor named ${this.actor} already exists in this system`
  }
}

/** A wire envelope was addressed to an actor this system does not have. */
export class UnknownActor extends Schema.TaggedError<UnknownActor>()("UnknownActor", {
  actor: Schema.String
}) {
  override get message(): string {
    return `no actor named ${this.actor} in this system`
  }
}

/** A journal file could not be read, written or decoded. */
export class JournalFileError extends Schema.TaggedError<JournalFileError>()("JournalFileError", {
  file: Schema.String,
  problem: Schema.String
}) {
  override get message(): string {
    return `journal file ${this.file}: ${this.problem}`
  }
}

/** A replay that was required to be identical diverged (see Replay.ts). */
export class ReplayDiverged extends Schema.TaggedError<ReplayDiverged>()("ReplayDiverged", {
  index: Schema.Number,
  step: Schema.Number,
  actor: Schema.String,
  kind: Schema.String,
  expected: Schema.String,
  got: Schema.String
}) {
  override get message(): string {
    return `replay diverged at entry ${this.index} (step ${this.step}, ${this.actor}, ${this.kind}): ` +
      `expected ${this.expected}, got ${this.got}`
  }
}
