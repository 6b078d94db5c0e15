/**
 * Gradient checkpointing of a differentiable function (a transformer block): its forward keeps none of
 * its intermediates, and its backward runs the forward again under a tape of its own to get them.
 *
 * Why: tfjs keeps every tensor a taped forward made until the backward pass is done, so the update's
 * peak memory is the whole network's activations at once, and the wasm heap never gives back what it
 * grew to (a default run's resident memory is mostly that high-water mark). Recomputed, only each
 * block's input is kept across the forward, and one block's activations are live at a time in the
 * backward, for one more forward of the blocks per update.
 *
 * The bits are the plain tape's: the forward runs again on the same inputs through the same kernels,
 * and the backward visits the same nodes in the same order. Where gradients of one tensor are summed,
 * the sums are the same as in the whole-network tape: inside a block they meet in the same order, and a
 * block's input only ever gets two of them (the residual and the LayerNorm), whose sum does not depend
 * on the order. test/numeric/recompute.test.ts compares the gradients bit for bit.
 *
 * Mechanism: `tf.customGrad` runs its forward in a tidy, untaped, and keeps only what `save` names (the
 * block's input and its constants, the causal mask; the weights are variables, which live anyway). The
 * backward calls `tf.grads` on the same function. tfjs's gradients() are not re-entrant from a backward pass (the inner call replaces
 * the engine's active tape and clears it at its end, and the outer one then fails to free its tape's
 * saved tensors), so the outer tape is put back after the inner call.
 */
import { tf } from "../tf.ts"

/** The engine state `gradients()` swaps: the tape being recorded (null outside a gradient computation). */
interface TapeState {
  activeTape: unknown
}
const engineState = (): TapeState => (tf.engine() as unknown as { state: TapeState }).state

/** tf.grads(f)(xs, dy) run from inside a backward pass, leaving the outer gradient computation's tape as it was. */
const innerGrads = (f: (...xs: Array<tf.Tensor>) => tf.Tensor, xs: Array<tf.Tensor>, dy: tf.Tensor): Array<tf.Tensor> => {
  const state = engineState()
  const outer = state.activeTape
  try {
    return tf.grads(f)(xs, dy)
  } finally {
    state.activeTape = outer
  }
}

/**
 * `fn(x, weights, constants)` with its activations recomputed in the backward pass. `weights` are the
 * tensors it reads that need gradients (its variables), passed so the gradient reaches them; `constants`
 * are the other tensors it reads (a mask), kept for the backward pass with x: a tensor made in the
 * gradient's forward scope and only captured would be disposed when that scope ends, before the backward
 * pass reads it again. Returns x's gradient and the weights', like the plain tape.
 */
export const recomputed = <X extends tf.Tensor, Y extends tf.Tensor>(
  fn: (x: X, weights: ReadonlyArray<tf.Tensor>, constants: ReadonlyArray<tf.Tensor>) => Y,
  constants: ReadonlyArray<tf.Tensor>
): ((x: X, weights: ReadonlyArray<tf.Tensor>) => Y) => {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc
    const [x, ...weights] = args.slice(0, -1) as [X, ...Array<tf.Tensor>]
    save([x, ...constants])
    return {
      value: fn(x, weights, constants),
      gradFunc: (dy: tf.Tensor | Array<tf.Tensor>, saved: Array<tf.Tensor>) => {
        const [savedX, ...savedConstants] = saved as [X, ...Array<tf.Tensor>]
        return innerGrads((xi, ...ws) => fn(xi as X, ws, savedConstants), [savedX, ...weights], dy as tf.Tensor)
      }
    }
  })
  return (x, weights) => op(x, ...weights) as Y
}
