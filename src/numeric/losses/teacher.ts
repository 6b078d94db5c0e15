/**
 * Teacher kinds for self-distillation: which weights score the student's rollout in the teacher's
 * context, and how they move. The result is always plain data (dense log-probs [B*R*V]) for sdpoLoss's
 * `teacherLogp`: the teacher is under stop-gradient by construction.
 *
 * Kinds (sources: LAS dp_actor.py TrustRegionTeacher and _update_teacher, actor.yaml
 * teacher_regularization / teacher_update_rate; TRL sdpo_config teacher_model_kind):
 * - "live":    the student's own current params (TRL "live").
 * - "ema":     a separate copy moved after each optimiser step by emaUpdate:
 *              theta_T <- (1 - r) theta_T + r theta_S, r = teacherUpdateRate (LAS and TRL default 0.05;
 *              PMD's LiveCodeBench run and the continual-learning caveat favour 0.01).
 * - "frozen":  a fixed snapshot, e.g. the initial policy (TRL "base").
 * - "reference-interpolated": logits = lerp(ref_logits, student_logits, c) = (1 - c) ref + c student,
 *              c = mixCoef in [0, 1] (LAS "trust-region").
 * The network is abstracted as `forward(params) -> logits [B, R, V]` already aligned to the response
 * (the caller runs the model on teacher-context ++ response and slices), so this file does not depend
 * on the model's internals, only on its Params type.
 */
import { NumericInputError } from "../errors.ts"
import type { Params } from "../model/params.ts"
import { tf } from "../tf.ts"
import { expectRange, hostF32, hostTidy } from "./common.ts"

/** The network on the teacher's input with the given params, logits aligned to response tokens [B, R, V]. */
export type AlignedForward = (params: Params) => tf.Tensor3D

export type TeacherSpec =
  | { readonly kind: "live" }
  | { readonly kind: "ema"; readonly params: Params; readonly teacherUpdateRate: number }
  | { readonly kind: "frozen"; readonly params: Params }
  | { readonly kind: "reference-interpolated"; readonly refParams: Params; readonly mixCoef: number }

/** Same names, in the same order, with the same shapes; else a NumericInputError. */
export const checkSameLayout = (where: string, a: Params, b: Params): void => {
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) {
    throw new NumericInputError(where, `parameter names differ: [${ka.join(", ")}] vs [${kb.join(", ")}]`)
  }
  for (const k of ka) {
    const sa = a[k]!.shape
    const sb = b[k]!.shape
    if (sa.length !== sb.length || sa.some((x, i) => x !== sb[i])) {
      throw new NumericInputError(where, `parameter ${k} has shape [${sa}] vs [${sb}]`)
    }
  }
}

/**
 * A non-trainable copy of `params` (same names and order): the start of an EMA or frozen teacher.
 * The caller owns it and frees it with model/params.ts's disposeParams.
 */
export const snapshotParams = (params: Params): Params => {
  const out: Record<string, tf.Variable> = {}
  for (const [name, v] of Object.entries(params)) out[name] = tf.variable(v, false)
  return out
}

/**
 * In place: teacher <- (1 - rate) teacher + rate student, for every parameter (after an optimiser step).
 * `rate` is LAS / TRL's teacher_update_rate (the student's share). Note: model/params.ts's emaUpdate
 * takes the opposite convention (its rate is the share kept by the target).
 * @category teacher
 */
export const emaUpdate = (teacher: Params, student: Params, rate: number): void => {
  const where = "emaUpdate"
  expectRange(where, "rate", rate, 0, 1)
  checkSameLayout(where, teacher, student)
  tf.tidy(() => {
    for (const [name, t] of Object.entries(teacher)) t.assign(t.mul(1 - rate).add(student[name]!.mul(rate)))
  })
}

/** Validates a teacher spec against the student's params. */
const checkSpec = (where: string, spec: TeacherSpec, student: Params): void => {
  switch (spec.kind) {
    case "live":
      return
    case "ema":
      expectRange(where, "teacherUpdateRate", spec.teacherUpdateRate, 0, 1)
      return checkSameLayout(where, spec.params, student)
    case "frozen":
      return checkSameLayout(where, spec.params, student)
    case "reference-interpolated":
      expectRange(where, "mixCoef", spec.mixCoef, 0, 1)
      return checkSameLayout(where, spec.refParams, student)
    default:
      throw new NumericInputError(where, `unknown teacher kind ${String((spec as { kind: unknown }).kind)}`)
  }
}

/** The teacher's logits [B, R, V] (a tensor in the caller's scope; no gradient is taken through it). */
const teacherLogits = (spec: TeacherSpec, student: Params, forward: AlignedForward): tf.Tensor3D => {
  switch (spec.kind) {
    case "live":
      return forward(student)
    case "ema":
    case "frozen":
      return forward(spec.params)
    case "reference-interpolated": {
      const ref = forward(spec.refParams)
      const cur = forward(student)
      return ref.add(cur.sub(ref).mul(spec.mixCoef)) as tf.Tensor3D // torch.lerp(ref, cur, c)
    }
  }
}

/**
 * The teacher's dense log-probs [B*R*V] on the response, as data for sdpoLoss.
 * @category teacher
 */
export const teacherLogProbs = (spec: TeacherSpec, student: Params, forward: AlignedForward): Float32Array => {
  const where = "teacherLogProbs"
  checkSpec(where, spec, student)
  return hostTidy(() => {
    const logits = teacherLogits(spec, student, forward)
    if (logits.rank !== 3) throw new NumericInputError(where, `forward must return [B, R, V] logits, got [${logits.shape}]`)
    return Float32Array.from(hostF32(tf.logSoftmax(logits, -1)))
  })
}

/**
 * What a teacher does after the student's optimiser step: EMA teachers move toward the student;
 * the other kinds need nothing (live follows by construction; frozen and reference stay).
 * @category teacher
 */
export const afterStudentStep = (spec: TeacherSpec, student: Params): void => {
  if (spec.kind === "ema") emaUpdate(spec.params, student, spec.teacherUpdateRate)
}
