/**
 * The reflector actor: owns the insight memory and turns experience into insights
 * (src/memory/insight/reflect.ts, documented in src/memory/README.md).
 *
 * A thin shell over the pure logic on the runtime kernel (src/runtime/Actor.ts): one message at a time,
 * state committed only when the handler succeeds, so a crash mid-reflection re-delivers the message
 * against the last committed insights (reflection is deterministic, so the retry gives the same result).
 * Problems in a message are processed in id order, whatever order the sender listed them in.
 * Bad records fail the ask with ReflectorInputError (typed), never a silent skip. What reflection does is
 * a plug-in (src/plugins; default: the built-in contrastive reflection and novelty gate).
 */
import { Effect } from "effect"
import { compareStrings } from "../../src/core/Order.ts"
import type { Embedder } from "../../src/memory/embed/hashEmbed.ts"
import { makeHashEmbedder } from "../../src/memory/embed/hashEmbed.ts"
import type { ProblemExperience } from "../../src/memory/experience/experience.ts"
import { defaultInsightConfig, emptyInsights, type InsightConfig, type ProblemInsights } from "../../src/memory/insight/insights.ts"
import { defaultReflectConfig, type ReflectConfig } from "../../src/memory/insight/reflect.ts"
import { reflectWith } from "../../src/plugins/apply.ts"
import { pmdReflector } from "../../src/plugins/builtins.ts"
import type { ReflectorPlugin } from "../../src/plugins/types.ts"
import { behavior, type Behavior } from "../../src/runtime/Actor.ts"
import { ReflectorIn, ReflectorInputError, type ReflectorOut } from "./protocol.ts"

export { ReflectorInputError, type ReflectorOut } from "./protocol.ts"

export interface ReflectorState {
  readonly insights: ReadonlyMap<string, ProblemInsights>
}

export interface ReflectorOptions {
  readonly name?: string
  readonly embed?: Embedder
  readonly reflect?: ReflectConfig
  readonly insight?: InsightConfig
  readonly initial?: ReadonlyMap<string, ProblemInsights>
  /** The reflector plug-in (default: the built-in "pmd"). */
  readonly plugin?: ReflectorPlugin
}

/** Pure step of the reflector (exported for tests and for in-process use without an actor). */
export const reflectStep = (
  state: ReflectorState, msg: Extract<ReflectorIn, { _tag: "Reflect" }>, embed: Embedder, opts: ReflectorOptions = {}
): [ReflectorState, ReflectorOut] => {
  const ctx = { step: msg.step, policyVersion: msg.policyVersion }
  const env = { embed, insight: opts.insight ?? defaultInsightConfig, reflect: opts.reflect ?? defaultReflectConfig }
  const r = reflectWith(opts.plugin ?? pmdReflector, state.insights, msg.experiences as ReadonlyArray<ProblemExperience>, ctx, env)
  const next = new Map(state.insights)
  for (const i of r.changed) next.set(i.problemId, i)
  return [{ insights: next }, { _tag: "Reflected", changed: r.changed, added: r.added, merged: r.merged, dropped: r.dropped }]
}

export const reflectorBehavior = (opts: ReflectorOptions = {}): Behavior<ReflectorState, ReflectorIn, ReflectorOut, ReflectorInputError> => {
  const embed = opts.embed ?? makeHashEmbedder()
  return behavior({
    name: opts.name ?? "reflector",
    initial: { insights: opts.initial ?? new Map() },
    inbox: ReflectorIn,
    handle: (state: ReflectorState, msg: ReflectorIn) => {
      switch (msg._tag) {
        case "Reflect": {
          const ids = msg.experiences.map((e) => e.problemId)
          if (new Set(ids).size !== ids.length) return Effect.fail(new ReflectorInputError({ problem: "a problem appears twice in one Reflect" }))
          return Effect.try({
            try: () => reflectStep(state, msg, embed, opts) as readonly [ReflectorState, ReflectorOut],
            catch: (e) => new ReflectorInputError({ problem: e instanceof Error ? e.message : String(e) })
          })
        }
        case "GetInsights":
          return Effect.succeed([state, {
            _tag: "Insights",
            insights: [...msg.problemIds].sort(compareStrings).map((id) => state.insights.get(id) ?? emptyInsights(id))
          }] as const)
      }
    },
    journalView: { state: (s) => [...s.insights.entries()].sort((a, b) => compareStrings(a[0], b[0])) }
  })
}
