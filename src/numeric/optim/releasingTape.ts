/**
 * Backpropagation that keeps only what a gradient will read, and frees it once read.
 *
 * Why: tfjs keeps, until its whole backward pass is done, every gradient it computed (one per
 * intermediate tensor of the forward), every tensor a gradient function made along the way, and every
 * tensor a taped op saved for its gradient, read or not. The update's peak memory is then the forward's
 * activations plus all their gradients at once, and the wasm heap never gives back what it grew to (a
 * default run's resident memory is mostly that high-water mark). Here:
 * - when a node is recorded: the tensors it saved that its gradient will not read are let go. Add, Sub,
 *   Reshape and Sum read only their inputs' shapes (tfjs-core's gradients/*_grad.ts), so those keep
 *   shapes. A node that no variable reaches gets no gradient at all (the engine filters it out), so it
 *   keeps nothing; a Multiply by such a constant never computes the constant's gradient, so its other
 *   operand keeps only its shape.
 * - in the backward, which visits each node once, last recorded first: once a node's input gradients are
 *   computed, the gradients of its outputs, what its gradient function made and the tensors it saved are
 *   read by no later node, so they are disposed then.
 *
 * The bits are the plain tape's: the same kernels run on the same tensors in the same order; only the
 * moment tensors are disposed changes (a tensor disposed too early would make tfjs throw, not give
 * other values). test/numeric/releasingTape.test.ts compares the gradients bit for bit.
 *
 * Mechanism: while `f` runs, the engine's `addTapeNode` is wrapped: each recorded node's saved list is
 * trimmed (in place: the node's gradient closure holds the same array), and its gradient function notes
 * what the node read, made and handed out; the engine calls the next node's gradient function only after
 * it has summed this one's, and that is when this node's are freed. A tensor handed out as a gradient is
 * never freed by its node (an op may pass its output's gradient straight through, `dx = dy`), nor one
 * handed to two inputs or to a variable (the engine returns those). `f` must take gradients with respect
 * to variables (tf.variableGrads); a tape recorded inside its backward (recompute.ts) has other sources,
 * so there only the shape-only trimming applies.
 */
import { tf } from "../tf.ts"

/** The parts of tfjs's engine and tape nodes used here (tfjs-core engine.ts, tape.ts). */
interface TapeNode {
  readonly kernelName: string
  readonly inputs: Record<string, tf.Tensor | undefined>
  readonly outputs: ReadonlyArray<tf.Tensor>
  readonly saved?: Array<tf.Tensor>
  gradient?: (dys: Array<tf.Tensor | null>) => Record<string, () => tf.Tensor>
}
interface Engine {
  addTapeNode: (...args: Array<unknown>) => void
  readonly state: { readonly activeTape: Array<TapeNode> | null; readonly activeScope: { readonly track: ReadonlyArray<tf.Tensor> } }
}

/** Kernels whose gradients read only the shapes of what they saved. */
const SHAPE_ONLY = new Set<string>([tf.Add, tf.Sub, tf.Reshape, tf.Sum])

/** A saved tensor's stand-in: its shape (all a shape-only gradient reads), nothing to free. */
const shapeOf = (t: tf.Tensor): tf.Tensor => ({ shape: t.shape, dtype: t.dtype, rank: t.rank, size: t.size, dispose: () => {} }) as unknown as tf.Tensor

/** Replaces saved[i] by its shape for the i where `shapeOnly(i)`, freeing the tensor kept there. */
const trimSaved = (saved: Array<tf.Tensor>, shapeOnly: (i: number) => boolean): void => {
  for (let i = 0; i < saved.length; i++) {
    if (!shapeOnly(i)) continue
    const t = saved[i]!
    saved[i] = shapeOf(t)
    t.dispose()
  }
}

/** A node whose gradients have been handed out: what to free once the engine moves on. */
interface Done {
  /** the gradients of its outputs and its saved tensors (kept by the engine for this node alone) */
  readonly used: ReadonlyArray<tf.Tensor | null>
  /** what its gradient function made right away, less anything kept (tf.keep) */
  readonly made: ReadonlyArray<tf.Tensor>
  readonly handedOut: Set<tf.Tensor>
}

/** Runs `f`, which takes gradients with respect to variables (tf.variableGrads), with the tape described above. */
export const releasingTape = <T>(f: () => T): T => {
  const engine = tf.engine() as unknown as Engine
  const original = engine.addTapeNode
  const reached = new Set<number>() // ids of the forward's tensors that depend on a variable
  const kept = new WeakSet<tf.Tensor>() // handed to two inputs or to a variable: the engine's to free
  let pending: Done | null = null
  let backward = false
  const release = (): void => {
    if (pending === null) return
    const { used, made, handedOut } = pending
    pending = null
    for (const t of [...used, ...made]) if (t !== null && !handedOut.has(t) && !kept.has(t)) t.dispose()
  }
  /** Lets go of what the node's gradient will not read (see the file comment). */
  const trim = (node: TapeNode): void => {
    const saved = node.saved ?? []
    if (SHAPE_ONLY.has(node.kernelName)) trimSaved(saved, () => true)
    if (backward) return
    const from = Object.values(node.inputs).map((x) => x !== undefined && x !== null && (x instanceof tf.Variable || reached.has(x.id)))
    if (!from.some(Boolean)) return trimSaved(saved, () => true)
    node.outputs.forEach((y) => reached.add(y.id))
    // Multiply saves [a, b]; a constant b gets no gradient, so a's values are never read (and the other way round)
    if (node.kernelName === tf.Multiply && from.length === 2 && saved.length === 2) trimSaved(saved, (i) => !from[1 - i])
  }
  const wrap = (node: TapeNode): void => {
    const gradient = node.gradient
    if (gradient === undefined) return
    node.gradient = (dys) => {
      backward = true
      release() // the engine has summed the previous node's gradients
      let thunks: Record<string, () => tf.Tensor> = {}
      // what the gradient function makes right away (a custom gradient's results and temporaries), kept for now
      const made = tf.tidy(() => {
        thunks = gradient(dys)
        return [...engine.state.activeScope.track]
      })
      // a custom gradient's backward may itself run a backward (recompute.ts), whose last node is still pending
      release()
      const handedOut = new Set<tf.Tensor>()
      const byName: Record<string, () => tf.Tensor> = {}
      for (const [name, thunk] of Object.entries(thunks)) {
        byName[name] = () => {
          const dx = thunk()
          if (handedOut.has(dx) || node.inputs[name] instanceof tf.Variable) kept.add(dx)
          handedOut.add(dx)
          return dx
        }
      }
      pending = { used: [...dys, ...(node.saved ?? [])], made: made.filter((t) => !t.kept), handedOut }
      return byName
    }
  }
  engine.addTapeNode = function (this: Engine, ...args: Array<unknown>) {
    original.apply(this, args)
    const tape = this.state.activeTape
    const node = tape?.[tape.length - 1]
    if (node === undefined) return
    trim(node)
    wrap(node)
  }
  try {
    return f()
  } finally {
    engine.addTapeNode = original
    pending = null // the engine itself disposes the last node's tensors when its backward scope ends
  }
}
