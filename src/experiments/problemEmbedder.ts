/**
 * The embedder memory clusters and retrieves problems with (`memory.problemKey`, issue #13).
 *
 * - "ngrams" (absent: the default, every hash unchanged): the seeded hashed-n-gram embedder, the same one
 *   that embeds memory content.
 * - "base-hidden": the final hidden state (after the last layer norm) at the prompt's last position ([ANS])
 *   of the run's *initial* network (the warm-up base, or the seeded init), L2-normalised. A learned
 *   embedder, as the paper's Qwen3-Embedding is, and fixed for the whole run (the student's weights move;
 *   the keys must not). Why: a code prompt shows three examples' digits and one noisy cue token, so
 *   hashed n-grams are dominated by digits. On the code benchmark, the share of a training problem's 5
 *   nearest neighbours that share its cluster is 10.4% by n-grams and 31.4% by the base's hidden state
 *   (held-out 9.2% and 27.6%; chance 5%); on science it is 19.6% and 8.7%, so there "ngrams" stays
 *   better (docs/findings/memory-to-student.md §8).
 *
 * The problems are known when the run is built (its train and held-out prompts), so they are embedded
 * once, each alone (a batch of one: a vector depends only on its tokens and the weights), and the
 * weights are released; asking for any other sequence is a bug, and says so.
 */
import type { RunConfig } from "../config/RunConfig.ts"
import { compareStrings } from "../core/Order.ts"
import { Rng } from "../core/Rng.ts"
import { type Embedder, makeHashEmbedder } from "../memory/embed/hashEmbed.ts"
import { disposeParams, embedSequences, initParams, type ModelConfig, paramsFromWeights, type Weights } from "../numeric/index.ts"
import { baseCheckpoint } from "./base.ts"

/** The seeded n-gram embedder every run uses for memory content (and, by default, for problems). */
export const contentEmbedder = (): Embedder => makeHashEmbedder()

const unit = (v: Float32Array): Float32Array => {
  let ss = 0
  for (const x of v) ss += x * x
  const inv = ss === 0 ? 0 : 1 / Math.sqrt(ss)
  return Float32Array.from(v, (x) => x * inv)
}

/**
 * The problem embedder `cfg.memory.problemKey` names, over the run's problem prompts; `content` itself
 * for "ngrams". "base-hidden" needs the run's numeric backend initialised (its bits are that backend's);
 * `base` is the run's base weights when the caller has them already (undefined: read them here; null:
 * the seeded init).
 */
export const problemEmbedder = (
  cfg: RunConfig, model: ModelConfig, content: Embedder, prompts: ReadonlyArray<ReadonlyArray<number>>, base?: Weights | null
): Embedder => {
  if ((cfg.memory.problemKey ?? "ngrams") === "ngrams") return content
  const weights = base !== undefined ? base : cfg.base !== "scratch" ? baseCheckpoint(cfg.domain, model, cfg.base).weights : null
  const params = weights !== null
    ? paramsFromWeights(model, weights)
    : initParams(model, Rng.root(cfg.seed).fork("policy", "init")) // the policy's own init (actors/policy/PolicyModel.ts)
  const raw = new Map<string, Float32Array>()
  try {
    for (const p of prompts) {
      const key = p.join(",")
      if (!raw.has(key)) raw.set(key, embedSequences(params, model, [p], { batchSize: 1, pool: "last" })[0]!)
    }
  } finally {
    disposeParams(params)
  }
  // centred on the mean over the run's problems (sorted keys: the sum's order is fixed), then unit length:
  // raw states share a large common direction (mean pairwise cosine 0.83), which would put every problem
  // into one or two clusters at the clustering threshold
  const keys = [...raw.keys()].sort(compareStrings)
  const mean = new Float64Array(model.dModel)
  for (const k of keys) raw.get(k)!.forEach((x, j) => (mean[j]! += x))
  const table = new Map(keys.map((k) => [k, unit(Float32Array.from(raw.get(k)!, (x, j) => x - mean[j]! / keys.length))]))
  return (tokens) => {
    const vec = table.get(tokens.join(","))
    if (vec === undefined) throw new Error(`memory.problemKey=base-hidden: a sequence that is no problem of this run was embedded (a bug): ${tokens.slice(0, 12).join(" ")}…`)
    return vec
  }
}
