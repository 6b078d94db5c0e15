import { fc, test as fcTest } from "@fast-check/vitest"
import { beforeAll, describe, expect, it } from "vitest"
import { NumericInputError } from "../../../src/numeric/errors.ts"
import { disposeParams, type Params } from "../../../src/numeric/model/params.ts"
import { afterStudentStep, type AlignedForward, emaUpdate, snapshotParams, type TeacherSpec, teacherLogProbs } from "../../../src/numeric/losses/teacher.ts"
import { tf } from "../../../src/numeric/tf.ts"
import { expectAllClose } from "./harness.ts"
import { logSoftmax } from "./reference.ts"

beforeAll(async () => {
  await tf.setBackend("cpu")
})

const V = 4
const tokens = Int32Array.from([0, 3, 2, 1, 1, 2]) // B = 2, R = 3

/** A tiny bigram "model": logits of position r = w[token r] + b. */
const forward: AlignedForward = (p) =>
  tf.tidy(() => tf.oneHot(tf.tensor1d(tokens, "int32"), V).toFloat().matMul(p["w"]!).add(p["b"]!).reshape([2, 3, V]) as tf.Tensor3D)

const makeParams = (w: ReadonlyArray<number>, b: ReadonlyArray<number>): Params => {
  const tw = tf.tensor2d(Float32Array.from(w), [V, V])
  const tb = tf.tensor1d(Float32Array.from(b))
  const out = { w: tf.variable(tw), b: tf.variable(tb) }
  tf.dispose([tw, tb])
  return out
}

/** Reference teacher log-probs from plain arrays of logits. */
const refLogp = (w: ReadonlyArray<number>, b: ReadonlyArray<number>): Array<number> =>
  Array.from(tokens).flatMap((t) => logSoftmax(Array.from({ length: V }, (_, v) => w[t * V + v]! + b[v]!)))

const vals = (n: number) => fc.array(fc.integer({ min: -2000, max: 2000 }).map((k) => k / 1000), { minLength: n, maxLength: n })

describe("teacher kinds", () => {
  fcTest.prop([vals(16), vals(4), vals(16), vals(4), fc.integer({ min: 0, max: 100 }).map((k) => k / 100)], { seed: 31, numRuns: 25 })(
    "live, frozen, EMA and reference-interpolated teachers match their definitions",
    (ws, bs, wr, br, c) => {
      const student = makeParams(ws, bs)
      const ref = makeParams(wr, br)
      const live = teacherLogProbs({ kind: "live" }, student, forward)
      expectAllClose(live, refLogp(ws, bs), 1e-5, 1e-5, "live")
      expectAllClose(teacherLogProbs({ kind: "frozen", params: ref }, student, forward), refLogp(wr, br), 1e-5, 1e-5, "frozen")
      const ema: TeacherSpec = { kind: "ema", params: ref, teacherUpdateRate: 0.05 }
      expectAllClose(teacherLogProbs(ema, student, forward), refLogp(wr, br), 1e-5, 1e-5, "ema")
      // lerp of logits = logits of lerped params here (the model is linear in its params)
      const mix = (a: ReadonlyArray<number>, s: ReadonlyArray<number>) => a.map((x, i) => x + c * (s[i]! - x))
      const interp = teacherLogProbs({ kind: "reference-interpolated", refParams: ref, mixCoef: c }, student, forward)
      expectAllClose(interp, refLogp(mix(wr, ws), mix(br, bs)), 2e-5, 1e-4, "interpolated")
      disposeParams(student)
      disposeParams(ref)
    }
  )

  it("emaUpdate moves the teacher by the rate toward the student; rate 0 keeps, 1 copies", () => {
    const student = makeParams(Array.from({ length: 16 }, (_, i) => i), [1, 2, 3, 4])
    const teacher = snapshotParams(makeParams(new Array(16).fill(0), [0, 0, 0, 0]))
    emaUpdate(teacher, student, 0.25)
    expectAllClose(teacher["w"]!.dataSync(), Array.from({ length: 16 }, (_, i) => 0.25 * i), 1e-6, 0)
    emaUpdate(teacher, student, 0)
    expectAllClose(teacher["b"]!.dataSync(), [0.25, 0.5, 0.75, 1], 1e-6, 0)
    afterStudentStep({ kind: "ema", params: teacher, teacherUpdateRate: 1 }, student)
    expectAllClose(teacher["w"]!.dataSync(), student["w"]!.dataSync(), 0, 0)
    expect(teacher["w"]!.trainable).toBe(false)
    // the frozen kind does not move
    const frozen = snapshotParams(student)
    afterStudentStep({ kind: "frozen", params: frozen }, makeParams(new Array(16).fill(9), [9, 9, 9, 9]))
    expectAllClose(frozen["w"]!.dataSync(), student["w"]!.dataSync(), 0, 0)
  })

  it("a snapshot is independent of later changes to the student", () => {
    const student = makeParams(new Array(16).fill(1), [0, 0, 0, 0])
    const snap = snapshotParams(student)
    student["w"]!.assign(tf.zeros([V, V]))
    expect(Array.from(snap["w"]!.dataSync()).every((x) => x === 1)).toBe(true)
  })

  it("rejects mismatched params and out-of-range rates", () => {
    const a = makeParams(new Array(16).fill(0), [0, 0, 0, 0])
    const tw = tf.zeros([V, V])
    const other = { w: tf.variable(tw) }
    tw.dispose()
    expect(() => emaUpdate(a, other, 0.1)).toThrow(NumericInputError)
    expect(() => emaUpdate(a, a, 1.5)).toThrow(NumericInputError)
    expect(() => teacherLogProbs({ kind: "reference-interpolated", refParams: a, mixCoef: -0.1 }, a, forward)).toThrow(NumericInputError)
    expect(() => teacherLogProbs({ kind: "frozen", params: other }, a, forward)).toThrow(NumericInputError)
  })

  it("leaks no tensors", () => {
    const s = makeParams(new Array(16).fill(0.5), [0, 1, 0, 1])
    const t = snapshotParams(s)
    const run = () => {
      teacherLogProbs({ kind: "reference-interpolated", refParams: t, mixCoef: 0.3 }, s, forward)
      teacherLogProbs({ kind: "live" }, s, forward)
      afterStudentStep({ kind: "ema", params: t, teacherUpdateRate: 0.1 }, s)
    }
    run()
    const before = tf.memory().numTensors
    for (let i = 0; i < 20; i++) run()
    expect(tf.memory().numTensors).toBe(before)
  })
})
