/**
 * Work that may run whenever a thread would otherwise wait (pipelined execution, issue #17): the next
 * step's rollouts, sampled ahead in chunks. A worker takes a chunk while it has no other job; the learner's
 * thread takes one while it waits for a worker's last task of a stage (shareWork's `meanwhile`), and
 * computes whatever is left when the rollouts are asked for.
 *
 * Which thread samples a chunk decides only when it is ready: a row's tokens depend on its weights and its
 * own stream, never on the chunk it is in (src/numeric/sampling), and each chunk's result lands at its index.
 */

/**
 * One chunk: computed here (`local`) or by worker `w` (`remote`, which rejects if the worker cannot; the
 * task itself says what a failure means for its result: a prefetch is then sampled again when asked for).
 */
export interface BackgroundTask {
  readonly local: () => void
  readonly remote: (w: number) => Promise<void>
}

export class BackgroundQueue {
  private tasks: Array<BackgroundTask> = []
  /** workers with a chunk in hand */
  private readonly feeding = new Set<number>()
  /** workers that failed a chunk: they get no more */
  private readonly refused = new Set<number>()

  /** Replaces the queue's tasks (those in a worker's hand finish; their results are then unused). */
  replace(tasks: ReadonlyArray<BackgroundTask>): void {
    this.tasks = [...tasks]
  }

  get size(): number {
    return this.tasks.length
  }

  /** Computes the next task here; false when there is none. */
  runOneHere(): boolean {
    const task = this.tasks.shift()
    if (task === undefined) return false
    task.local()
    return true
  }

  /** Hands worker `w` tasks, one at a time, while `free(w)` says it has no other job. */
  feed(w: number, free: (w: number) => boolean): void {
    if (this.feeding.has(w) || this.refused.has(w)) return
    const next = (): void => {
      const task = this.tasks.length > 0 && free(w) ? this.tasks.shift() : undefined
      if (task === undefined) return void this.feeding.delete(w)
      this.feeding.add(w)
      task.remote(w).then(next, () => {
        this.refused.add(w)
        this.feeding.delete(w)
      })
    }
    next()
  }
}
