/**
 * Running memory plug-ins the way a run does, in one place for the memory keeper, the reflector and
 * consolidator actors and the testing batteries: problems in id order, "changed" decided the same way
 * everywhere, a consolidator's missing edits computed by difference. With the built-ins this computes
 * exactly what src/memory/pipeline.ts and the actors computed before plug-ins existed.
 */
import { compareStrings } from "../core/Order.ts"
import type { Behavior, BehaviorBank, BehaviorEdit } from "../memory/behavior/behavior.ts"
import type { ConsolidateInput } from "../memory/behavior/consolidate.ts"
import type { ProblemExperience } from "../memory/experience/experience.ts"
import { emptyInsights, type ProblemInsights } from "../memory/insight/insights.ts"
import type { WriteContext } from "../memory/types.ts"
import type { ConsolidateEnv, ConsolidateOutput, ConsolidatorPlugin, ReflectEnv, ReflectorPlugin } from "./types.ts"

/**
 * A plug-in broke a promise a run checks cheaply (a consolidator over capacity, a retriever returning
 * more than K behaviors or behaviors of another version): the run stops (a defect) with this error.
 * `invariant` names the promise as pmdsim/testing's batteries do.
 */
export class PluginContractError extends Error {
  readonly _tag = "PluginContractError"
  readonly invariant: string
  constructor(invariant: string, message: string) {
    super(message)
    this.invariant = invariant
  }
}

export interface Reflection {
  /** The problems whose insights changed (id order). */
  readonly changed: ReadonlyArray<ProblemInsights>
  readonly added: number
  readonly merged: number
  readonly dropped: number
}

/** Did a reflection change a problem's insights: by its reported ids when it gives them, else by reference. */
const changedBy = (prev: ProblemInsights, out: { next: ProblemInsights; added?: ReadonlyArray<string>; merged?: ReadonlyArray<string> }): boolean =>
  out.added !== undefined && out.merged !== undefined ? out.added.length + out.merged.length > 0 : out.next !== prev

/** The reflector over some problems' experience (any order; processed by problem id; ids must be distinct). */
export const reflectWith = (
  plugin: ReflectorPlugin, insights: ReadonlyMap<string, ProblemInsights>, experiences: ReadonlyArray<ProblemExperience>,
  ctx: WriteContext, env: ReflectEnv
): Reflection => {
  const changed: Array<ProblemInsights> = []
  let added = 0
  let merged = 0
  let dropped = 0
  for (const exp of [...experiences].sort((a, b) => compareStrings(a.problemId, b.problemId))) {
    const prev = insights.get(exp.problemId) ?? emptyInsights(exp.problemId)
    const out = plugin.reflect(prev, exp, ctx, env)
    if (out.next.problemId !== exp.problemId) {
      throw new PluginContractError("well-formed", `reflector '${plugin.name}' returned the insights of ${out.next.problemId} for problem ${exp.problemId}`)
    }
    added += out.added?.length ?? 0
    merged += out.merged?.length ?? 0
    dropped += out.dropped ?? 0
    if (changedBy(prev, out)) changed.push(out.next)
  }
  return { changed, added, merged, dropped }
}

export interface Consolidation {
  /** The next bank: the input bank itself when nothing changed. */
  readonly bank: BehaviorBank
  readonly edits: ReadonlyArray<BehaviorEdit>
  readonly clusters: number
}

/**
 * Edits turning `before` into `after`, by behavior id (sorted: removes and updates in id order, then
 * news): an id that left is a "capacity" removal, a changed record an update.
 */
export const bankEdits = (before: BehaviorBank, after: BehaviorBank): Array<BehaviorEdit> => {
  const now = new Map(after.behaviors.map((b) => [b.id, b]))
  const was = new Set(before.behaviors.map((b) => b.id))
  const edits: Array<BehaviorEdit> = []
  for (const b of [...before.behaviors].sort((x, y) => compareStrings(x.id, y.id))) {
    const n = now.get(b.id)
    if (n === undefined) edits.push({ op: "remove", behavior: b, reason: "capacity" })
    else if (n !== b) edits.push({ op: "update", before: b, after: n })
  }
  const news: Array<Behavior> = after.behaviors.filter((b) => !was.has(b.id))
  for (const b of news.sort((x, y) => compareStrings(x.id, y.id))) edits.push({ op: "new", behavior: b })
  return edits
}

const sameList = (a: ReadonlyArray<string>, b: ReadonlyArray<string>) => a.length === b.length && a.every((x, i) => x === b[i])

/** A consolidator's output with its edits filled in, and the input bank kept (by reference) when nothing changed. */
export const normaliseConsolidation = (input: ConsolidateInput, out: ConsolidateOutput): Consolidation => {
  const edits = out.edits ?? bankEdits(input.bank, out.bank)
  const unchanged = edits.length === 0 && sameList(out.bank.retired, input.bank.retired)
  return { bank: unchanged ? input.bank : out.bank, edits, clusters: out.clusters ?? 0 }
}

/**
 * The consolidator as a run calls it: its output normalised, and refused (an Error: a plug-in bug ends
 * the run) when the bank breaks the cheap structural promises (capacity, ids sorted and distinct).
 */
export const consolidateWith = (plugin: ConsolidatorPlugin, input: ConsolidateInput, env: ConsolidateEnv): Consolidation => {
  const r = normaliseConsolidation(input, plugin.consolidate(input, env))
  const bs = r.bank.behaviors
  if (bs.length > env.config.capacity) throw new PluginContractError("caps", `consolidator '${plugin.name}' returned ${bs.length} behaviors; the capacity is ${env.config.capacity}`)
  for (let i = 1; i < bs.length; i++) {
    if (compareStrings(bs[i - 1]!.id, bs[i]!.id) >= 0) {
      throw new PluginContractError("caps", `consolidator '${plugin.name}' returned a bank whose behaviors are not sorted by distinct ids (${bs[i - 1]!.id}, ${bs[i]!.id})`)
    }
  }
  return r
}
