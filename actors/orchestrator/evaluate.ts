/**
 * Evaluation every `eval.every` steps, under the paper's two protocols (ARCHITECTURE.md §9.4):
 * internalization (training problems, judged by all their tests) and transfer (held-out problems of
 * the same clusters). The headline is the memory-free student (PMD §3: inference uses no memory);
 * memory-augmented accuracy (the newest memory composed into the prompt) is reported beside it.
 *
 * Each problem is sampled k times plus once greedily (argmax, lowest id on ties: no random draw). Every
 * evaluation stream (the problem subset, each problem's prompt rendering, each sample, maj@k's
 * tie-break, memory retrieval) is keyed by the evaluation seed (`eval.seed`, absent = the run seed) and
 * by (protocol, problem, sample), never by the step or the method: common random numbers, so curves
 * and methods at one seed compare policies, not sampling noise. `pmdsim eval-noise` evaluates one
 * checkpoint under several evaluation seeds to measure the noise that remains.
 */
import { Effect } from "effect"
import type { RunConfig } from "../../src/config/RunConfig.ts"
import { compareStrings } from "../../src/core/Order.ts"
import { type KeyPart, Rng } from "../../src/core/Rng.ts"
import type { Domain, ProblemBase, Split } from "../../src/domains/Domain.ts"
import { Control } from "../../src/domains/control.ts"
import type { AccuracyAtK, EvalRow } from "../../src/protocol/metrics.ts"
import { memoryPrompt } from "./memoryPrompt.ts"
import type { MemoryRead, Ports } from "./ports.ts"
import { usesMemory } from "./step.ts"

export const PROTOCOLS = [
  { protocol: "internalization", split: "train" },
  { protocol: "transfer", split: "heldout" }
] as const satisfies ReadonlyArray<{ protocol: EvalRow["protocol"]; split: Split }>

/** The seed of every evaluation stream: `eval.seed`, or the run seed when it is absent. */
export const evalSeedOf = (cfg: RunConfig): number => cfg.eval.seed ?? cfg.seed

/** The root of the evaluation's own streams (problem subset, prompt rendering, maj@k ties, retrieval). */
const evalRoot = (cfg: RunConfig): Rng => Rng.root(evalSeedOf(cfg))

/**
 * A sampling stream's key. The policy roots every stream at the run seed (PolicyModel.sample), so an
 * evaluation seed other than the run seed is folded into the key; at the run seed (eval.seed absent or
 * equal to it) the key is the one evaluation always used, so existing runs keep their numbers.
 */
const sampleKey = (cfg: RunConfig, ...parts: ReadonlyArray<KeyPart>): ReadonlyArray<KeyPart> =>
  evalSeedOf(cfg) === cfg.seed ? parts : [...parts, "eval-seed", evalSeedOf(cfg)]

/** The fixed evaluation subset of a split (a seeded choice, the same at every eval step). */
export const evalProblems = (cfg: RunConfig, domain: Domain<ProblemBase>, split: Split): Array<string> => {
  const ids = domain.problems(split).map((p) => p.id)
  if (cfg.eval.problems === 0 || cfg.eval.problems >= ids.length) return ids
  return evalRoot(cfg).fork("eval-problems", split).shuffle(ids).slice(0, cfg.eval.problems).sort(compareStrings)
}

const answerKey = (response: ReadonlyArray<number>): string => {
  const end = response.indexOf(Control.EOS)
  return (end < 0 ? response : response.slice(0, end)).join(",")
}

/** avg@k, pass@k, maj@k (ties broken by a seeded draw), headroom, greedy, from per-problem samples. */
export const accuracy = (
  perProblem: ReadonlyArray<{ readonly id: string; readonly samples: ReadonlyArray<{ key: string; solved: boolean; reward: number }>; readonly greedy: boolean }>,
  k: number,
  tieRng: (id: string) => Rng
): AccuracyAtK => {
  let avg = 0
  let pass = 0
  let maj = 0
  let greedy = 0
  for (const p of perProblem) {
    avg += p.samples.reduce((a, s) => a + s.reward, 0) / Math.max(1, p.samples.length)
    if (p.samples.some((s) => s.solved)) pass++
    const counts = new Map<string, { n: number; solved: boolean }>()
    for (const s of p.samples) counts.set(s.key, { n: (counts.get(s.key)?.n ?? 0) + 1, solved: s.solved })
    const top = Math.max(...[...counts.values()].map((c) => c.n))
    const tied = [...counts.entries()].filter(([, c]) => c.n === top).map(([key]) => key).sort(compareStrings)
    if (tied.length > 0 && counts.get(tieRng(p.id).pick(tied))!.solved) maj++
    if (p.greedy) greedy++
  }
  const n = Math.max(1, perProblem.length)
  return { k, avgAtK: avg / n, passAtK: pass / n, majAtK: maj / n, headroom: (pass - maj) / n, greedy: greedy / n }
}

const run = (
  ports: Ports, cfg: RunConfig, domain: Domain<ProblemBase>, protocol: string, ids: ReadonlyArray<string>,
  contextOf: (id: string, prompt: ReadonlyArray<number>) => ReadonlyArray<number>, tag: string
) =>
  Effect.gen(function*() {
    const k = cfg.eval.k
    const prompts = ids.map((id) => contextOf(id, domain.prompt(domain.problem(id), evalRoot(cfg).fork("eval-visit", protocol, id))))
    const sampled = yield* ports.sample({
      requests: ids.flatMap((id, i) => Array.from({ length: k }, (_, j) => ({ prompt: prompts[i]!, key: sampleKey(cfg, "eval", protocol, id, j) }))),
      maxNewTokens: domain.maxResponseTokens, lag: 0, greedy: false
    })
    const greedy = yield* ports.sample({
      requests: ids.map((id, i) => ({ prompt: prompts[i]!, key: sampleKey(cfg, "eval-greedy", protocol, id) })),
      maxNewTokens: domain.maxResponseTokens, lag: 0, greedy: true
    })
    const requests = [
      ...ids.flatMap((id, i) => Array.from({ length: k }, (_, j) => ({ rolloutId: `${tag}/${protocol}/${id}/${j}`, problemId: id, protocol: "eval" as const, response: [...sampled.results[i * k + j]!.tokens] }))),
      ...ids.map((id, i) => ({ rolloutId: `${tag}/${protocol}/${id}/greedy`, problemId: id, protocol: "eval" as const, response: [...greedy.results[i]!.tokens] }))
    ]
    const verdicts = new Map((yield* ports.verify(requests)).map((v) => [v.rolloutId, v]))
    const judge = (rid: string) => {
      const v = verdicts.get(rid)!
      return v._tag === "Verified" ? { solved: v.verdict.solved, reward: v.verdict.reward } : { solved: false, reward: 0 }
    }
    const perProblem = ids.map((id, i) => ({
      id,
      samples: Array.from({ length: k }, (_, j) => ({ key: answerKey(sampled.results[i * k + j]!.tokens), ...judge(`${tag}/${protocol}/${id}/${j}`) })),
      greedy: judge(`${tag}/${protocol}/${id}/greedy`).solved
    }))
    return accuracy(perProblem, k, (id) => evalRoot(cfg).fork("maj-tie", protocol, id))
  })

/** Both protocols, memory-free and (when the method has memory) memory-augmented. */
export const evaluate = (ports: Ports, cfg: RunConfig, domain: Domain<ProblemBase>, step: number) =>
  Effect.gen(function*() {
    const memory: MemoryRead | null = usesMemory(cfg) && cfg.eval.memoryAugmented ? yield* ports.readMemory(0) : null
    const rows: Array<EvalRow> = []
    for (const { protocol, split } of PROTOCOLS) {
      const ids = evalProblems(cfg, domain, split)
      if (ids.length === 0) continue
      const memoryFree = yield* run(ports, cfg, domain, protocol, ids, (_, p) => p, "free")
      // each problem's view of the newest version, asked of the memory by message (retrieval on the evaluation's stream)
      const views = memory === null ? null : new Map((yield* ports.views(memory, ids.map((id) => ({
        problemId: id, stream: { seed: evalSeedOf(cfg), key: ["eval-retrieval", id] }
      })))).map((v) => [v.problemId, v.view]))
      const memoryAugmented = views === null ? null : yield* run(ports, cfg, domain, protocol, ids, (id, prompt) => memoryPrompt(cfg, views.get(id)!, prompt).tokens, "mem")
      rows.push({ kind: "eval", step, protocol, problems: ids.length, memoryFree, memoryAugmented })
    }
    return rows
  })
