/**
 * Shares independent tasks between this thread and worker threads as each becomes free (pipelined
 * execution, issue #17). Which thread computes a task decides only when its result is ready, never
 * what it is: every result lands at its task's index, so the caller sees the same array whoever ran what.
 *
 * Why dynamic rather than fixed shares: the threads are not equally free. A worker may still be sampling
 * the next step's rollouts when a teacher scoring starts, and a worker's micro-batch runs slower than this
 * thread's; a fixed split makes the faster side wait at the end of every stage. Here this thread takes the
 * next task whenever it finishes one, yielding in between so the workers' replies are seen and their next
 * tasks posted. With enough tasks each worker holds two at once (it handles its messages in order, so the
 * next one is queued before the current one ends and it never waits for this thread to yield); with few
 * (an update's micro-batches) one, so this thread is not left without a task.
 *
 * A worker's task that fails (a dead worker, a job it could not run) is computed here afterwards, and a
 * worker that failed gets no more tasks.
 */
import { setImmediate as yieldToEventLoop } from "node:timers/promises"

export interface ShareOptions<T> {
  readonly tasks: number
  /** workers that may take tasks */
  readonly workers: ReadonlyArray<number>
  readonly local: (task: number) => T
  readonly remote: (worker: number, task: number) => Promise<T>
  /**
   * Work this thread may do while it waits for the workers' last tasks (background.ts): one piece per
   * call, false when there is none.
   */
  readonly meanwhile?: () => boolean
}

export const shareWork = async <T>(o: ShareOptions<T>): Promise<Array<T>> => {
  const results = new Array<T>(o.tasks)
  const failed: Array<number> = []
  let next = 0
  const take = (): number | null => (next < o.tasks ? next++ : null)
  let running = 0
  const lane = async (w: number, stopped: { value: boolean }) => {
    running++
    for (let task = take(); task !== null; task = stopped.value ? null : take()) {
      try {
        results[task] = await o.remote(w, task)
      } catch {
        failed.push(task)
        stopped.value = true
      }
    }
    running--
  }
  const depth = o.tasks >= 3 * (o.workers.length + 1) ? 2 : 1
  const stopped = o.workers.map(() => ({ value: false }))
  // depth-major, so the first tasks go one to each worker
  const lanes = Array.from({ length: depth }, () => o.workers.map((w, i) => lane(w, stopped[i]!))).flat()
  for (let task = take(); task !== null; task = take()) {
    results[task] = o.local(task)
    if (lanes.length > 0) await yieldToEventLoop()
  }
  if (o.meanwhile !== undefined) while (running > 0 && o.meanwhile()) await yieldToEventLoop()
  await Promise.all(lanes)
  for (const task of failed) results[task] = o.local(task)
  return results
}
