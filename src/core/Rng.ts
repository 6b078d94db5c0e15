/**
 * Seeded, forkable PRNG streams (xoroshiro128+ from pure-rand).
 *
 * A stream is named by a stable key path, e.g. `Rng.root(seed).fork("policy", step, problemId, k)`.
 * Its initial state is sha-256 of the canonical key path, so a fork depends only on its key, never on
 * how many numbers its parent has drawn or on which fiber asked first: that is what makes results
 * independent of scheduling and batch composition. `state()`/`Rng.restore` let checkpoints resume a
 * stream at its exact position.
 */
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64"
import { uniformInt } from "pure-rand/distribution/uniformInt"
import { xoroshiro128plusFromState } from "pure-rand/generator/xoroshiro128plus"
import type { JumpableRandomGenerator } from "pure-rand/types/JumpableRandomGenerator"
import { encode } from "./Codec.ts"
import { createHash } from "node:crypto"

export type KeyPart = string | number | bigint | boolean

/** A serialisable stream position: its key path and generator state. */
export interface RngSnapshot {
  readonly key: ReadonlyArray<KeyPart>
  readonly state: ReadonlyArray<number>
}

const seedState = (key: ReadonlyArray<KeyPart>): Array<number> => {
  const digest = createHash("sha256").update(encode(["pmdsim/rng/v1", ...key])).digest()
  const words: Array<number> = [digest.readInt32LE(0), digest.readInt32LE(4), digest.readInt32LE(8), digest.readInt32LE(12)]
  // xoroshiro must not start from the all-zero state
  if (!words.some((w) => w !== 0)) words[0] = 1
  return words
}

export class Rng {
  readonly key: ReadonlyArray<KeyPart>
  private readonly gen: JumpableRandomGenerator
  private constructor(key: ReadonlyArray<KeyPart>, gen: JumpableRandomGenerator) {
    this.key = key
    this.gen = gen
  }

  /** The root stream of a run. */
  static root(seed: KeyPart): Rng {
    return Rng.at([seed])
  }

  /** The stream named by a full key path, at its start. */
  static at(key: ReadonlyArray<KeyPart>): Rng {
    return new Rng([...key], xoroshiro128plusFromState(seedState(key)))
  }

  /** Resume a stream from `snapshot()`. */
  static restore(s: RngSnapshot): Rng {
    return new Rng([...s.key], xoroshiro128plusFromState([...s.state]))
  }

  /** An independent child stream; depends only on this stream's key and `parts`, not on its position. */
  fork(...parts: ReadonlyArray<KeyPart>): Rng {
    return Rng.at([...this.key, ...parts])
  }

  snapshot(): RngSnapshot {
    return { key: [...this.key], state: [...this.gen.getState()] }
  }

  /** Uniform in [0, 1), 53 random bits. */
  float(): number {
    return uniformFloat64(this.gen)
  }

  /** Uniform integer in [lo, hi] (both included). */
  int(lo: number, hi: number): number {
    return uniformInt(this.gen, lo, hi)
  }

  /** Uniform integer in [0, n). */
  below(n: number): number {
    if (n <= 0) throw new RangeError(`Rng.below: n must be positive, got ${n}`)
    return uniformInt(this.gen, 0, n - 1)
  }

  bool(p = 0.5): boolean {
    return this.float() < p
  }

  /** Standard normal (Box-Muller; one draw of two uniforms per value, so positions stay simple). */
  normal(): number {
    const u1 = 1 - this.float() // (0, 1]
    const u2 = this.float()
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)
  }

  pick<A>(xs: ReadonlyArray<A>): A {
    if (xs.length === 0) throw new RangeError("Rng.pick: empty array")
    return xs[this.below(xs.length)]!
  }

  /** Index drawn with probability proportional to non-negative weights. */
  weighted(weights: ReadonlyArray<number>): number {
    let total = 0
    for (const w of weights) total += w
    if (!(total > 0)) throw new RangeError("Rng.weighted: weights must have a positive sum")
    let u = this.float() * total
    for (let i = 0; i < weights.length; i++) {
      u -= weights[i]!
      if (u < 0) return i
    }
    return weights.length - 1
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffle<A>(xs: ReadonlyArray<A>): Array<A> {
    const out = [...xs]
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.below(i + 1)
      const t = out[i]!
      out[i] = out[j]!
      out[j] = t
    }
    return out
  }
}
