/** The PostgreSQL connection of every cluster process, and the retry its client-side calls need. */
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted, Schedule } from "effect"
import { ClusterInputError } from "./errors.ts"

/** Checks the URL's shape before connecting, so a typo is a ClusterInputError naming the flag. */
export const pgLayer = (flag: string, url: string) =>
  Layer.unwrap(Effect.suspend(() =>
    /^postgres(ql)?:\/\/./.test(url)
      ? Effect.succeed(PgClient.layer({ url: Redacted.make(url) }))
      : Effect.fail(new ClusterInputError({ field: flag, problem: `${JSON.stringify(url)} is not a postgres:// URL` }))
  ))

/**
 * Client calls (submit, status, pull) retry while PostgreSQL is briefly away (a restart): SqlError as a
 * failure and PersistenceError, which the cluster's storage raises as a defect (design doc §6).
 */
export const retryTransient = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  self.pipe(
    Effect.catchDefect((d) => (d as { _tag?: string } | null)?._tag === "PersistenceError" ? Effect.fail(d as never) : Effect.die(d)),
    Effect.retry({
      while: (e) => ["SqlError", "PersistenceError"].includes((e as { _tag?: string } | null)?._tag ?? ""),
      schedule: Schedule.spaced("1 second"),
      times: 30
    })
  ) as Effect.Effect<A, E, R>
