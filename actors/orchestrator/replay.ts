/**
 * Solution replay (`memory.replaySolutions`, issue #13's "off-policy signal on stored solution tokens"):
 * for a problem none of whose rollouts succeeded this step, the best stored success in the pinned memory
 * version joins the problem's group as one more update row: the student's own memory-free prompt, the
 * stored response, its stored reward, and no teacher. Under GRPO's group baseline it gets a positive
 * advantage and the failures a negative one, so the student is pushed toward a solution it once found,
 * without memory in its context. This is LUFFY's off-policy guidance (Yan et al. 2025, arXiv 2504.14945)
 * with the model's own past success as the guide.
 *
 * The teacher still scores only the student's on-policy rollouts. Replay rows are treated as on-policy:
 * no importance ratio is taken, so the knob is refused with async staleness (resolve.ts).
 */
import { compareStrings } from "../../src/core/Order.ts"
import type { ExperienceItem } from "../../src/memory/experience/experience.ts"
import type { UpdateRow } from "../../src/protocol/policy.ts"

/** The success to replay: the highest reward, then the most recent, then the smallest id. */
export const bestStoredSuccess = (successes: ReadonlyArray<ExperienceItem>): ExperienceItem | undefined =>
  [...successes].sort((a, b) => b.prov.reward - a.prov.reward || b.prov.step - a.prov.step || compareStrings(a.id, b.id))[0]

export interface ReplayInput {
  readonly problemId: string
  /** the problem's group index in this step's update */
  readonly group: number
  /** the memory-free prompt the student saw at this visit */
  readonly prompt: ReadonlyArray<number>
  /** whether any rollout of this step solved it */
  readonly solvedNow: boolean
  /** the stored successes of the pinned memory version */
  readonly successes: ReadonlyArray<ExperienceItem>
}

/** Replay rows for the problems of a step, in the order given. */
export const replayRows = (problems: ReadonlyArray<ReplayInput>): Array<UpdateRow & { readonly replayOf: string }> =>
  problems.flatMap((p) => {
    if (p.solvedNow) return []
    const best = bestStoredSuccess(p.successes)
    if (best === undefined || best.response.length === 0) return []
    return [{
      prompt: p.prompt, response: best.response,
      // unused: replay rows are on-policy for the loss (no importance ratio); present for the batch layout
      oldLogp: new Array<number>(best.response.length).fill(0),
      reward: best.prov.reward, group: p.group, teacherLogp: null, replayOf: best.id
    }]
  })
