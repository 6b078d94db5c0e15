/** fast-check arbitraries and fixtures shared by the memory tests (synthetic token sequences). */
import { fc } from "@fast-check/vitest"
import type { Attempt } from "../../src/memory/experience/experience.ts"
import { makeHashEmbedder } from "../../src/memory/embed/hashEmbed.ts"

/** One embedder per test process: building the projection is the costly part. */
export const embed = makeHashEmbedder({ dim: 32, buckets: 256, maxN: 3, seed: "test" })

/** Small alphabet so that random sequences share n-grams (and near-duplicates happen). */
export const tokens = (min = 1, max = 8) => fc.array(fc.integer({ min: 16, max: 23 }), { minLength: min, maxLength: max })

let counter = 0
/** A batch of attempts with distinct rollout ids (ids unique across the whole test process). */
export const attempts = (max = 10) =>
  fc.array(fc.record({ response: tokens(), feedback: tokens(0, 4), success: fc.boolean(), reward: fc.double({ min: 0, max: 1, noNaN: true }) }), { maxLength: max })
    .map((xs): Array<Attempt> =>
      xs.map((x) => {
        const id = `r${String(counter++).padStart(8, "0")}`
        return { response: x.response, feedback: x.feedback, success: x.success, prov: { rolloutId: id, policyVersion: 1, step: 1, reward: x.success ? 1 : x.reward * 0.5 } }
      }))

/** Deterministic shuffle driven by fast-check. */
export const shuffled = <A>(xs: ReadonlyArray<A>, seed: number): Array<A> => {
  const out = [...xs]
  let s = seed >>> 0
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    const j = s % (i + 1)
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}
