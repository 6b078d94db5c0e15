/**
 * Teacher diagnostics of one step (pure; reported, never hashed): which kind of context each rollout's
 * teacher got (the teacher protocol's ContextKind), and where the teacher pulls the student.
 *
 * A function over protocol data only (the teacher's reply: kinds and log-probs; the step's own rollouts:
 * responses and sampling log-probs), so it lives with the step that has both, not inside the teacher.
 *
 * "Lift" of a rollout = token mean of log pi_T(y_t | ctx) - log pi_S(y_t), over its own sampled tokens
 * y (pi_S = the policy that sampled it, pi_T = the teacher as the loss sees it, re-normalised). Under
 * the distillation loss the student moves toward the teacher, so a positive lift on a *failed* rollout
 * means the teacher raises the probability of the failing program: the update reinforces the failure.
 * A teacher that reads a solution should give failed rollouts a negative lift.
 * Figures per kind: `ctx.<kind>` = fraction of all rollouts; `liftFail.<kind>` / `liftPass.<kind>` =
 * mean lift over failed / successful rollouts of that kind (null when there is none);
 * `distillShare.<kind>` = that kind's share of the distillation loss's tokens (token-mean aggregation);
 * `teacherEntropy.<kind>` / `studentNll.<kind>` = token mean of the teacher's entropy (nats) and of
 * -log pi_S(y_t), the student's on-policy entropy estimate, on those rollouts: a teacher flatter than
 * the student spreads the student's mass instead of pointing it at a program.
 */
import { type ContextKind, contextKinds } from "../../src/protocol/teacher.ts"

export interface DiagnosedRollout {
  readonly kind: ContextKind
  readonly success: boolean
  readonly response: ReadonlyArray<number>
  /** log-prob of each response token under the sampling policy */
  readonly sampleLogp: ArrayLike<number>
  /** teacher log-probs [n * V] (null = masked) */
  readonly teacherLogp: Float32Array | null
}

interface TokenFigures { readonly lift: number; readonly teacherEntropy: number; readonly studentNll: number }

/** Token means over the response: lift (log pi_T(y_t), re-normalised over V, - log pi_S(y_t)), teacher entropy, -log pi_S(y_t). */
export const figuresOf = (r: DiagnosedRollout): TokenFigures | null => {
  const n = r.response.length
  if (r.teacherLogp === null || n === 0) return null
  const V = r.teacherLogp.length / n
  let lift = 0
  let h = 0
  let nll = 0
  for (let t = 0; t < n; t++) {
    const off = t * V
    let max = -Infinity
    for (let v = 0; v < V; v++) max = Math.max(max, r.teacherLogp[off + v]!)
    let z = 0
    for (let v = 0; v < V; v++) z += Math.exp(r.teacherLogp[off + v]! - max)
    const logZ = max + Math.log(z)
    for (let v = 0; v < V; v++) {
      const lp = r.teacherLogp[off + v]! - logZ
      if (lp > -1e9) h -= Math.exp(lp) * lp
    }
    lift += r.teacherLogp[off + r.response[t]!]! - logZ - r.sampleLogp[t]!
    nll -= r.sampleLogp[t]!
  }
  return { lift: lift / n, teacherEntropy: h / n, studentNll: nll / n }
}

const mean = (xs: ReadonlyArray<number>): number | null => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length)

export const teacherDiagnostics = (rollouts: ReadonlyArray<DiagnosedRollout>): Record<string, number | null> => {
  const out: Record<string, number | null> = {}
  const figs = rollouts.map(figuresOf)
  const distillTokens = rollouts.reduce((a, r) => a + (r.teacherLogp === null ? 0 : r.response.length), 0)
  for (const kind of contextKinds) {
    const idx = rollouts.flatMap((r, i) => (r.kind === kind ? [i] : []))
    out[`ctx.${kind}`] = rollouts.length === 0 ? 0 : idx.length / rollouts.length
    if (kind === "none") continue
    const where = (pick: (f: TokenFigures) => number, success?: boolean) =>
      mean(idx.flatMap((i) => ((success === undefined || rollouts[i]!.success === success) && figs[i] !== null ? [pick(figs[i]!)] : [])))
    out[`liftFail.${kind}`] = where((f) => f.lift, false)
    out[`liftPass.${kind}`] = where((f) => f.lift, true)
    out[`teacherEntropy.${kind}`] = where((f) => f.teacherEntropy)
    out[`studentNll.${kind}`] = where((f) => f.studentNll)
    const tokens = idx.reduce((a, i) => a + (rollouts[i]!.teacherLogp === null ? 0 : rollouts[i]!.response.length), 0)
    out[`distillShare.${kind}`] = distillTokens === 0 ? 0 : tokens / distillTokens
  }
  return out
}
