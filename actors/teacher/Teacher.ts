/**
 * The teacher actor: builds each rollout's memory-conditioned context (contexts.ts) from the memory
 * version it was handed, asks the policy actor to score the student's responses under those contexts
 * (the same network: live, EMA or frozen weights), and names the memory version it read.
 */
import { Effect } from "effect"
import type { RunConfig } from "../../src/config/RunConfig.ts"
import { Rng } from "../../src/core/Rng.ts"
import { behavior, type Behavior } from "../../src/runtime/Actor.ts"
import type { TeachReply, TeachRequest } from "../orchestrator/ports.ts"
import { type TeacherContext, teacherContexts } from "./contexts.ts"

export type TeacherIn = { readonly _tag: "Teach"; readonly request: TeachRequest }

export type Scorer = (contexts: ReadonlyArray<ReadonlyArray<number>>, responses: ReadonlyArray<ReadonlyArray<number>>) => Effect.Effect<ReadonlyArray<Float32Array>>

/** The teacher's contexts for a request (the memory view is retrieved with the step's pinned stream). */
const contextsOf = (cfg: RunConfig, req: TeachRequest, onView?: (problemId: string, topBehavior: string | undefined) => void): Array<TeacherContext> =>
  teacherContexts(req.items, (problemId) => {
    const v = req.memory!.viewOf(problemId, Rng.root(cfg.seed).fork("retrieval", req.step, problemId))
    onView?.(problemId, v.topBehavior)
    return v.view
  }, {
    levels: req.memory === null ? "none" : cfg.memory.levels,
    budget: cfg.memory.contextTokensMax,
    successThreshold: cfg.sdpo.successThreshold,
    includeFeedback: cfg.sdpo.includeFeedback,
    dontRepromptOnSelfSuccess: cfg.sdpo.dontRepromptOnSelfSuccess,
    ...(cfg.sdpo.teacherNeedsSolution === true ? { teacherNeedsSolution: true } : {})
  })

export const teach = (cfg: RunConfig, score: Scorer, req: TeachRequest): Effect.Effect<TeachReply> =>
  Effect.gen(function*() {
    const top = new Map<string, string | undefined>()
    const contexts = contextsOf(cfg, req, (problemId, topBehavior) => top.set(problemId, topBehavior))
    const withContext = contexts.flatMap((c, i) => (c.context === null ? [] : [i]))
    const scored = yield* score(withContext.map((i) => contexts[i]!.context!), withContext.map((i) => req.items[i]!.response))
    const teacherLogp: Array<Float32Array | null> = contexts.map(() => null)
    withContext.forEach((i, j) => { teacherLogp[i] = scored[j]! })
    return {
      teacherLogp, topBehavior: req.items.map((it) => top.get(it.problemId)), memorySeq: req.memory?.seq ?? -1, kinds: contexts.map((c) => c.kind),
      refs: contexts.map((c) => c.refs)
    }
  })

export const teacherBehavior = (cfg: RunConfig, score: Scorer): Behavior<number, TeacherIn, TeachReply> =>
  behavior({
    name: "teacher",
    initial: 0,
    capacity: 4,
    askTimeout: "Infinity",
    handle: (n: number, msg: TeacherIn) => teach(cfg, score, msg.request).pipe(Effect.map((r) => [n + 1, r] as const))
  })
