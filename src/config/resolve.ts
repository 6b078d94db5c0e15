/**
 * Resolving a run's config: preset, then a config file (deep-merged), then `--set key=value`
 * overrides, then schema validation. Every failure is a ConfigError naming the field or the file.
 */
import { Schema } from "effect"
import { readFileSync } from "node:fs"
import { hashValue } from "../core/Hash.ts"
import { presets } from "./presets.ts"
import { RunConfig } from "./RunConfig.ts"

export class ConfigError extends Schema.TaggedError<ConfigError>()("ConfigError", { message: Schema.String }) {}

type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [k: string]: Json }

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x)

/** Deep merge: objects merge key by key, anything else replaces. */
export const deepMerge = (base: unknown, over: unknown): unknown => {
  if (!isObject(base) || !isObject(over)) return over
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? deepMerge(base[k], v) : v
  return out
}

/** `a.b.c=value`: value parsed as JSON when it parses (numbers, booleans, quoted strings), else a string. */
export const parseSet = (assignment: string): { path: ReadonlyArray<string>; value: Json } => {
  const eq = assignment.indexOf("=")
  if (eq <= 0) throw new ConfigError({ message: `--set expects key=value, got '${assignment}'` })
  const path = assignment.slice(0, eq).split(".")
  if (path.some((p) => p.length === 0)) throw new ConfigError({ message: `--set: bad key '${assignment.slice(0, eq)}'` })
  const raw = assignment.slice(eq + 1)
  let value: Json
  try {
    value = JSON.parse(raw) as Json
  } catch {
    value = raw
  }
  return { path, value }
}

/** Optional config fields a preset may leave out (absent has a meaning): `--set` may still name them. */
const OPTIONAL_FIELDS = new Set(["threads", "eval.seed", "memory.avoidContradiction", "memory.replaySolutions", "memory.rehearsal", "memory.recall", "memory.recallWeight", "sdpo.teacherNeedsSolution", "sdpo.teachSolvedGroups", "memory.importFrom",
  "memory.consolidator", "memory.reflector", "memory.retriever", "memory.sharpen", "memory.problemKey", "async.lagSchedule",
  "async.execution", "async.rolloutWorkers", "async.injectDelayMs", "optim.microBatches", "optim.recompute", "numeric.fma"])

/** Optional config structs a preset may leave out: `--set numeric.fma=true` creates `numeric` when absent. */
const OPTIONAL_STRUCTS = new Set(["numeric"])

const setPath = (obj: unknown, path: ReadonlyArray<string>, value: Json, full: string): unknown => {
  if (path.length === 0) return value
  const [head, ...rest] = path as [string, ...Array<string>]
  if (rest.length === 0 && isObject(obj) && OPTIONAL_FIELDS.has(full)) return { ...obj, [head]: value }
  // the struct's own path (the part of `full` up to head): only top-level structs are optional today
  if (rest.length > 0 && isObject(obj) && !(head in obj) && full === [head, ...rest].join(".") && OPTIONAL_STRUCTS.has(head)) {
    return { ...obj, [head]: setPath({}, rest, value, full) }
  }
  if (!isObject(obj) || !(head in obj)) {
    // domainOptions is free-form: new keys are allowed there only
    if (isObject(obj) && full.startsWith("domainOptions.")) return { ...obj, [head]: setPath(undefined, rest, value, full) }
    throw new ConfigError({ message: `--set ${full}: no such config field '${head}'` })
  }
  return { ...obj, [head]: setPath(obj[head], rest, value, full) }
}

const decode = Schema.decodeUnknownSync(RunConfig, { onExcessProperty: "error", errors: "all" })

/** Validates a whole config object; the message names every bad field. */
export const validateConfig = (candidate: unknown, origin: string): RunConfig => {
  let cfg: RunConfig
  try {
    cfg = decode(candidate)
  } catch (e) {
    throw new ConfigError({ message: `invalid config (${origin}):\n${(e as Error).message}` })
  }
  if ((cfg.optim.microBatches ?? 1) > 1 && cfg.cppo.enabled) {
    throw new ConfigError({ message: `invalid config (${origin}): optim.microBatches ${cfg.optim.microBatches} needs cppo.enabled false (CPPO selects rows over the whole batch)` })
  }
  if (cfg.memory.replaySolutions === true && cfg.async.staleness > 0) {
    throw new ConfigError({ message: `invalid config (${origin}): memory.replaySolutions needs async.staleness 0 (replay rows take no importance ratio), got async.staleness ${cfg.async.staleness}` })
  }
  return cfg
}

export interface ResolveInput {
  readonly preset?: string | undefined
  readonly file?: string | undefined
  readonly sets?: ReadonlyArray<string> | undefined
  /** shortcuts: --method, --domain, --seed, --workers, --threads */
  readonly overrides?: Readonly<Record<string, Json | undefined>> | undefined
}

export const resolveConfig = (input: ResolveInput): RunConfig => {
  const name = input.preset ?? "default"
  const preset = presets[name]
  if (preset === undefined) throw new ConfigError({ message: `unknown preset '${name}' (known: ${Object.keys(presets).join(", ")})` })
  let cfg: unknown = preset
  if (input.file !== undefined) {
    let text: string
    try {
      text = readFileSync(input.file, "utf8")
    } catch (e) {
      throw new ConfigError({ message: `cannot read config file ${input.file}: ${(e as Error).message}` })
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (e) {
      throw new ConfigError({ message: `config file ${input.file} is not valid JSON: ${(e as Error).message}` })
    }
    if (!isObject(parsed)) throw new ConfigError({ message: `config file ${input.file} must hold a JSON object` })
    cfg = deepMerge(cfg, parsed)
  }
  for (const [k, v] of Object.entries(input.overrides ?? {})) if (v !== undefined) cfg = setPath(cfg, k.split("."), v, k)
  for (const s of input.sets ?? []) {
    const { path, value } = parseSet(s)
    cfg = setPath(cfg, path, value, path.join("."))
  }
  return validateConfig(cfg, input.file === undefined ? `preset ${name}` : `preset ${name} + ${input.file}`)
}

/** Canonical hash of a resolved config (summary.json's configHash). */
export const configHash = (cfg: RunConfig): string => hashValue(cfg)

/**
 * Config fields that cannot change a result: speed knobs (verifier workers, XNNPACK threads) and the
 * sweep's labels (`knobs`, read by the report only). A resumed run may change them; any other field
 * is bound to the run's checkpoints by `resultHash`.
 */
export const SPEED_ONLY_FIELDS = ["workers", "threads", "knobs"] as const

const resultPart = (cfg: RunConfig): Record<string, unknown> => {
  const out: Record<string, unknown> = { ...cfg }
  for (const k of SPEED_ONLY_FIELDS) delete out[k]
  return out
}

/** Canonical hash of the fields of a config that change results (checkpoints and markers record it). */
export const resultHash = (cfg: RunConfig): string => hashValue(resultPart(cfg))

/** Dotted paths of the result fields whose values differ between two configs, sorted. */
export const resultFieldDiff = (a: RunConfig, b: RunConfig): Array<string> => {
  const out: Array<string> = []
  const walk = (x: unknown, y: unknown, path: string) => {
    if (isObject(x) && isObject(y)) {
      for (const k of [...new Set([...Object.keys(x), ...Object.keys(y)])].sort()) walk(x[k], y[k], path === "" ? k : `${path}.${k}`)
    } else if (hashValue(x ?? null) !== hashValue(y ?? null)) out.push(path)
  }
  walk(resultPart(a), resultPart(b), "")
  return out
}
