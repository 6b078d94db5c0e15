/**
 * Builds the parts of a run from its config: the domain, and the data its actors are built from (the
 * pipeline's input: base weights, problem keys, the fixed seeded embedders, the memory plug-ins the config
 * names, the verifier pool options). The actors build their own state from it (actors/orchestrator,
 * through each actor's entry module); the app layer never holds a policy model or a memory keeper.
 */
import type { RunConfig } from "../config/RunConfig.ts"
import { Rng } from "../core/Rng.ts"
import { makeDomain, type DomainSpec } from "../domains/index.ts"
import type { Domain, ProblemBase } from "../domains/Domain.ts"
import { VOCAB_SIZE } from "../domains/vocab.ts"
import type { ModelConfig, Weights } from "../numeric/index.ts"
import type { ProblemKey } from "../../actors/memory/index.ts"
import type { PipelineInput } from "../../actors/orchestrator/index.ts"
import { baseCheckpoint, benchmarkDomainConfig } from "./base.ts"
import { contentEmbedder, problemEmbedder } from "./problemEmbedder.ts"
import type { VersionedMemory } from "../memory/versioned.ts"
import { defaultRegistry, type PluginRegistry, resolvePlugins } from "../plugins/registry.ts"

/**
 * The run's domain: a fixed benchmark (seed `domainSeed`, by default the problems the base was
 * calibrated on), independent of the run seed, as the paper's datasets are; `domainOptions` override
 * the benchmark's knobs.
 */
export const domainSpec = (cfg: RunConfig): DomainSpec =>
  ({ name: cfg.domain, seed: cfg.domainSeed, config: { ...benchmarkDomainConfig(cfg.domain), ...cfg.domainOptions } }) as DomainSpec

export const modelConfig = (cfg: RunConfig): ModelConfig => ({ vocabSize: VOCAB_SIZE, ...cfg.model })

/** The fixed rendering of a problem that memory embeds (its prompt under a canonical visit). */
export const problemKeys = (cfg: RunConfig, domain: Domain<ProblemBase>, split: "train" | "heldout"): Array<ProblemKey> =>
  domain.problems(split).map((p) => ({ id: p.id, query: domain.prompt(p, Rng.root(cfg.seed).fork("canonical-prompt", p.id)) }))

export interface RunParts {
  readonly domain: Domain<ProblemBase>
  /** what the run's actors are built from (data): actors/orchestrator actorPorts / directPorts */
  readonly pipeline: PipelineInput
  readonly trainIds: ReadonlyArray<string>
  readonly baseHash: string | null
}

/** The run's base checkpoint (null for `base: "scratch"`); a BaseCheckpointError, thrown, says how to build a missing one. */
export const runBase = (cfg: RunConfig): { weights: Weights; recipeHash: string } | null =>
  cfg.base === "scratch" ? null : baseCheckpoint(cfg.domain, modelConfig(cfg), cfg.base)

/**
 * `registry` resolves the config's plug-in names (a ConfigError, thrown, names an unknown one); `base` is
 * the run's base when the caller has read it already (runBase), else it is read here.
 */
export const buildParts = (
  cfg: RunConfig, vm?: VersionedMemory, registry: PluginRegistry = defaultRegistry, base: ReturnType<typeof runBase> = runBase(cfg)
): RunParts => {
  const plugins = resolvePlugins(cfg, registry)
  const domain = makeDomain(domainSpec(cfg))
  const model = modelConfig(cfg)
  const weights = base?.weights ?? null
  const baseHash = base?.recipeHash ?? null
  const embed = contentEmbedder()
  const train = problemKeys(cfg, domain, "train")
  const heldout = problemKeys(cfg, domain, "heldout")
  const embedProblem = problemEmbedder(cfg, model, embed, [...train, ...heldout].map((p) => p.query), weights)
  return {
    domain,
    // the actors build their own state from this data (actors/orchestrator/Pipeline.ts)
    pipeline: {
      cfg,
      policy: { model, weights },
      memory: { embed, embedProblem, train, heldout, ...(vm === undefined ? {} : { vm }), plugins },
      verifier: {
        domain: domainSpec(cfg),
        workers: cfg.workers,
        faults: { seed: cfg.seed, crash: cfg.faults.crash, hang: cfg.faults.hang, slow: cfg.faults.slow, flaky: cfg.faults.flaky, slowMillis: 20 },
        timeout: `${cfg.faults.timeoutSeconds} seconds`
      }
    },
    trainIds: domain.problems("train").map((p) => p.id),
    baseHash
  }
}
