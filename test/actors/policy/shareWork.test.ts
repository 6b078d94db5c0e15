/**
 * Sharing a stage's tasks between the learner's thread and workers (actors/policy/shareWork.ts), and the
 * background queue they take from while they would wait (actors/policy/background.ts): every task's
 * result lands at its index exactly once, whatever the workers' speeds, failures and deaths.
 */
import { fc, test as fcTest } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { BackgroundQueue } from "../../../actors/policy/background.ts"
import { shareWork } from "../../../actors/policy/shareWork.ts"

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const result = (task: number) => `r${task}`

/** A worker: per task a delay, and whether it fails that task (a failing worker stays failed: it died). */
const workerArb = fc.record({ delays: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 8 }), diesAt: fc.option(fc.nat(10), { nil: undefined }) })

describe("shareWork", () => {
  fcTest.prop([fc.nat(24), fc.array(workerArb, { maxLength: 3 }), fc.nat(5)], { numRuns: 60 })(
    "every task's result at its index, each computed once where it succeeded",
    async (tasks, workers, meanwhileTasks) => {
      const ranHere: Array<number> = []
      const ranRemote: Array<number> = []
      const jobs = workers.map(() => 0)
      let meanwhileLeft = meanwhileTasks
      const out = await shareWork({
        tasks, workers: workers.map((_, w) => w),
        local: (task) => (ranHere.push(task), result(task)),
        remote: async (w, task) => {
          const spec = workers[w]!
          const job = jobs[w]!++
          await sleep(spec.delays[job % spec.delays.length]!)
          if (spec.diesAt !== undefined && job >= spec.diesAt) throw new Error("worker died")
          ranRemote.push(task)
          return result(task)
        },
        meanwhile: () => meanwhileLeft-- > 0
      })
      expect(out).toEqual(Array.from({ length: tasks }, (_, t) => result(t)))
      // a task ran here or remotely, never both (a failed remote attempt does not count)
      expect([...ranHere, ...ranRemote].sort((a, b) => a - b)).toEqual(Array.from({ length: tasks }, (_, t) => t))
      // background work is taken only while a worker still has a task: never without workers
      if (workers.length === 0) expect(meanwhileLeft).toBe(meanwhileTasks)
    }
  )

  it("this thread takes more tasks when the worker is slow, and fewer when it is fast", async () => {
    // slow: the worker's replies come only once this thread has done 8 tasks; fast: at once
    const share = async (slow: boolean) => {
      let here = 0
      const waiting: Array<() => void> = []
      await shareWork({
        tasks: 12, workers: [0],
        local: (task) => {
          if (++here === 8) waiting.splice(0).forEach((release) => release())
          return task
        },
        remote: (_, task) => (slow && here < 8 ? new Promise<number>((resolve) => waiting.push(() => resolve(task))) : Promise.resolve(task))
      })
      return here
    }
    expect(await share(true)).toBeGreaterThanOrEqual(8)
    expect(await share(false)).toBeLessThanOrEqual(2)
  })

  it("without workers every task is done here", async () => {
    expect(await shareWork({ tasks: 3, workers: [], local: result, remote: () => Promise.reject(new Error("unused")) })).toEqual(["r0", "r1", "r2"])
  })
})

describe("the background queue", () => {
  it("feeds a free worker one task at a time, stops while it is busy, and runs the rest here", async () => {
    const q = new BackgroundQueue()
    const done: Array<string> = []
    let busy = false
    q.replace([0, 1, 2, 3].map((i) => ({
      local: () => void done.push(`here ${i}`),
      remote: async () => {
        await sleep(1)
        done.push(`worker ${i}`)
        busy = i === 1 // the worker got another job meanwhile: it takes no more background work
      }
    })))
    q.feed(0, () => !busy)
    q.feed(0, () => !busy) // already fed: no second lane
    await sleep(20)
    expect(done).toEqual(["worker 0", "worker 1"])
    expect(q.size).toBe(2)
    while (q.runOneHere()) { /* drain */ }
    expect(done).toEqual(["worker 0", "worker 1", "here 2", "here 3"])
    expect(q.runOneHere()).toBe(false)
  })

  it("a worker that failed a task gets no more", async () => {
    const q = new BackgroundQueue()
    let asked = 0
    q.replace([0, 1].map(() => ({ local: () => undefined, remote: () => (asked++, Promise.reject(new Error("no"))) })))
    q.feed(0, () => true)
    await sleep(5)
    q.feed(0, () => true)
    await sleep(5)
    expect(asked).toBe(1)
    expect(q.size).toBe(1)
  })
})
