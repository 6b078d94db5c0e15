/**
 * The wasm backend's Identity shares its input's data (wasm/sharedIdentity.ts): no copy per tensor a
 * gradient keeps, the same values, and each tensor still freed with its last holder.
 */
import { beforeAll, expect, test } from "vitest"
import { initBackend } from "../../src/numeric/index.ts"
import { tf } from "../../src/numeric/tf.ts"

beforeAll(async () => {
  await initBackend("wasm")
})

test("a clone shares its source's buffer, keeps its values after the source is disposed, and frees it last", () => {
  const x = tf.tensor2d([1, -2, 3.5, -0], [2, 2])
  const before = tf.memory()
  const y = tf.clone(x)
  // one more tensor, no new buffer (tfjs-wasm's own Identity would have copied)
  expect(tf.memory().numTensors).toBe(before.numTensors + 1)
  expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers)
  x.dispose()
  expect(Array.from(y.dataSync())).toEqual([1, -2, 3.5, -0])
  y.dispose()
  expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers - 1)
})

test("gradients through saved tensors are unchanged (the values a customGrad saves are its inputs')", () => {
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [a, b, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc]
    save([a, b])
    return { value: a.mul(b), gradFunc: (dy: tf.Tensor, saved: Array<tf.Tensor>) => [dy.mul(saved[1]!), dy.mul(saved[0]!)] }
  })
  const a = tf.tensor1d([1, 2, 3])
  const b = tf.tensor1d([4, 5, 6])
  const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) => f(x, y) as tf.Tensor)([a, b], tf.tensor1d([1, 10, 100]))
  expect(Array.from(da!.dataSync())).toEqual([4, 50, 600])
  expect(Array.from(db!.dataSync())).toEqual([1, 20, 300])
  tf.dispose([a, b, da!, db!])
})

test("string tensors are still copied by tfjs's kernel", () => {
  const s = tf.tensor1d(["a", "bc"], "string")
  const c = tf.clone(s)
  s.dispose()
  expect(c.dataSync()).toEqual(["a", "bc"])
  c.dispose()
})
