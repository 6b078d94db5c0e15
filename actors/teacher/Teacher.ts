/**
 * The teacher actor: builds each rollout's memory-conditioned context (contexts.ts) from the memory
 * version its request names, asks the policy actor to score the student's responses under those contexts
 * (the same network: live, EMA or frozen weights), and names the memory version it read.
 *
 * Pure parts and a thin shell: `viewQueries` says which views of the pinned version the contexts need
 * (one per problem, each with the step's retrieval stream), `contextsOf` builds the contexts from the
 * views the memory actor sent back, `replyOf` assembles the reply from the scores; the shell (`teach`)
 * only sends the two messages in between (memory: Views; policy: ScoreTeacher). Its inbox and reply are
 * data (src/protocol/teacher.ts).
 */
import { Effect } from "effect"
import type { RunConfig } from "../../src/config/RunConfig.ts"
import type { ProblemView, ViewQuery } from "../../src/protocol/memory.ts"
import type { VersionRef } from "../../src/protocol/records.ts"
import { type TeachReply, TeacherIn, type TeachRequest } from "../../src/protocol/teacher.ts"
import { behavior, type Behavior } from "../../src/runtime/Actor.ts"
import { type TeacherContext, teacherContexts } from "./contexts.ts"

export type { TeacherIn } from "../../src/protocol/teacher.ts"

export type Scorer = (contexts: ReadonlyArray<ReadonlyArray<number>>, responses: ReadonlyArray<ReadonlyArray<number>>) => Effect.Effect<ReadonlyArray<Float32Array>>
/** Asks the memory for the views of a pinned version. */
export type Viewer = (version: VersionRef, queries: ReadonlyArray<ViewQuery>) => Effect.Effect<ReadonlyArray<ProblemView>>

/** The views a request's contexts need: each problem once, retrieved with the step's stream for it. */
export const viewQueries = (cfg: RunConfig, req: TeachRequest): Array<ViewQuery> =>
  req.memory === null ? [] : [...new Set(req.items.map((it) => it.problemId))].map((problemId) => ({
    problemId, stream: { seed: cfg.seed, key: ["retrieval", req.step, problemId] }
  }))

/** The teacher's contexts for a request, from the views of its pinned version (pure). */
export const contextsOf = (cfg: RunConfig, req: TeachRequest, views: ReadonlyMap<string, ProblemView>): Array<TeacherContext> =>
  teacherContexts(req.items, (problemId) => views.get(problemId)!.view, {
    levels: req.memory === null ? "none" : cfg.memory.levels,
    budget: cfg.memory.contextTokensMax,
    successThreshold: cfg.sdpo.successThreshold,
    includeFeedback: cfg.sdpo.includeFeedback,
    dontRepromptOnSelfSuccess: cfg.sdpo.dontRepromptOnSelfSuccess,
    ...(cfg.sdpo.teacherNeedsSolution === true ? { teacherNeedsSolution: true } : {}),
    ...(cfg.sdpo.teachSolvedGroups === false ? { teachSolvedGroups: false } : {})
  })

/** Which contexts are scored (a null context masks its rollout out of distillation). */
export const scoredIndices = (contexts: ReadonlyArray<TeacherContext>): Array<number> =>
  contexts.flatMap((c, i) => (c.context === null ? [] : [i]))

/** The reply, from the contexts and the scores of the scored ones (pure). */
export const replyOf = (
  req: TeachRequest, views: ReadonlyMap<string, ProblemView>, contexts: ReadonlyArray<TeacherContext>, scored: ReadonlyArray<Float32Array>
): TeachReply => {
  const teacherLogp: Array<Float32Array | null> = contexts.map(() => null)
  scoredIndices(contexts).forEach((i, j) => { teacherLogp[i] = scored[j]! })
  return {
    teacherLogp, topBehavior: req.items.map((it) => views.get(it.problemId)?.topBehavior ?? null), memorySeq: req.memory?.seq ?? -1,
    kinds: contexts.map((c) => c.kind), refs: contexts.map((c) => c.refs)
  }
}

/** The shell's work for one request: views from memory, contexts, scores from the policy, the reply. */
export const teach = (cfg: RunConfig, score: Scorer, viewsOf: Viewer, req: TeachRequest): Effect.Effect<TeachReply> =>
  Effect.gen(function*() {
    const queries = viewQueries(cfg, req)
    const views = new Map((req.memory === null || queries.length === 0 ? [] : yield* viewsOf(req.memory, queries)).map((v) => [v.problemId, v]))
    const contexts = contextsOf(cfg, req, views)
    const withContext = scoredIndices(contexts)
    const scored = yield* score(withContext.map((i) => contexts[i]!.context!), withContext.map((i) => req.items[i]!.response))
    return replyOf(req, views, contexts, scored)
  })

export const teacherBehavior = (cfg: RunConfig, score: Scorer, viewsOf: Viewer): Behavior<number, TeacherIn, TeachReply> =>
  behavior({
    name: "teacher",
    initial: 0,
    inbox: TeacherIn,
    capacity: 4,
    askTimeout: "Infinity",
    handle: (n: number, msg: TeacherIn) => teach(cfg, score, viewsOf, msg.request).pipe(Effect.map((r) => [n + 1, r] as const))
  })
