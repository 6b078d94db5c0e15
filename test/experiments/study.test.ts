/** Studies (src/experiments/study.ts): the study file's schema, the claims' verdicts, and `pmdsim study` end to end. */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import type { RunConfig } from "../../src/config/RunConfig.ts"
import { decodeStudy, formatClaimsTable, judgeClaims, parseSeedList, readStudyFile, type ResolvedClaim, StudyConfigError, verdictOf } from "../../src/experiments/study.ts"
import { resolveStudyFile } from "../../src/cli/commands/study.ts"
import { exitCodeOf } from "../../src/cli/failure.ts"
import { RUN_METRICS, seedMetrics, type SeedMetrics } from "../../src/report/paired.ts"
import { cli, tmp } from "./cliHelpers.ts"

const SWEEP = { preset: "tiny", methods: ["grpo", "pmd"], seeds: [1, 2] }
const CLAIM = { id: "pmd>grpo", statement: "PMD beats GRPO", metric: "internalization avg@k", better: "pmd", worse: "grpo" }

const decodeError = (raw: unknown): StudyConfigError => {
  try {
    decodeStudy(raw, "s.json")
  } catch (e) {
    expect(e).toBeInstanceOf(StudyConfigError)
    return e as StudyConfigError
  }
  throw new Error("decoded a bad study")
}

describe("study file", () => {
  it("decodes a study and resolves claim settings to the plan's names", () => {
    const s = decodeStudy({ question: "q", sweep: { ...SWEEP, knobs: { "memory.lag": [0, 2] } }, claims: [{ ...CLAIM, better: "pmd memory.lag=0", worse: "grpo memory.lag=0" }] }, "s.json")
    expect(s.plan).toHaveLength(8)
    expect(s.claims[0]!.betterSetting).toBe("pmd memory.lag=0")
    expect(s.claims[0]!.worseSetting).toBe("grpo memory.lag=0")
  })

  it("rejects unknown fields, at the top and in a claim, naming them", () => {
    expect(decodeError({ question: "q", sweep: SWEEP, claims: [CLAIM], extra: 1 }).message).toMatch(/extra/)
    expect(decodeError({ question: "q", sweep: SWEEP, claims: [{ ...CLAIM, direction: "up" }] }).message).toMatch(/direction/)
    expect(decodeError({ question: "q", sweep: { ...SWEEP, bogus: 1 }, claims: [CLAIM] }).message).toMatch(/bogus/)
  })

  it("rejects a metric that is not a run metric, and a missing field; takes any run metric", () => {
    expect(decodeError({ question: "q", sweep: SWEEP, claims: [{ ...CLAIM, metric: "accuracy" }] }).message).toMatch(/metric must be one of/)
    for (const metric of RUN_METRICS) expect(decodeStudy({ question: "q", sweep: SWEEP, claims: [{ ...CLAIM, metric }] }, "s.json").claims[0]!.metric).toBe(metric)
    const { question: _, ...noQuestion } = { question: "q", sweep: SWEEP, claims: [CLAIM] }
    expect(decodeError(noQuestion).message).toMatch(/question/)
  })

  it("rejects a claim whose setting is not in the plan, or is ambiguous, naming the claim and the setting", () => {
    const missing = decodeError({ question: "q", sweep: SWEEP, claims: [{ ...CLAIM, worse: "sdpo" }] })
    expect(missing.message).toMatch(/claim "pmd>grpo": worse "sdpo" names no setting/)
    expect(exitCodeOf(missing)).toBe(2)
    const ambiguous = decodeError({ question: "q", sweep: { ...SWEEP, knobs: { "memory.lag": [0, 2] } }, claims: [CLAIM] })
    expect(ambiguous.message).toMatch(/claim "pmd>grpo": better "pmd" names 2 settings/)
  })
})

describe("shipped studies", () => {
  // the smoke check: each resolves by name, decodes, and plans every run (configs valid, claims naming one setting each)
  it.each([["paper", 90], ["staleness", 30], ["staleness-teacher", 15], ["staleness-ema", 20], ["staleness-rollouts", 40], ["staleness-throughput", 40]])("%s plans %i runs", (name, runs) => {
    const s = readStudyFile(resolveStudyFile(name))
    expect(s.plan).toHaveLength(runs)
    expect(s.spec.question).toMatch(/60 steps, 5 seeds/)
  })

  it("paper-500 plans the `paper` regime's budget: 5 methods x 10 seeds, the same run names as a `stable` sweep at 500 steps", () => {
    const s = readStudyFile(resolveStudyFile("paper-500"))
    expect(s.plan).toHaveLength(50)
    expect(s.plan.every((r) => { const c = r.config as RunConfig; return c.steps === 500 && c.eval.every === 100 })).toBe(true)
    expect(s.claims.map((c) => c.id)).toEqual(["pmd>grpo", "pmd>sdpo", "pmd>transient", "pmd>frozen-memory", "pmd>grpo transfer"])
  })

  it("paper-levels plans PMD at memory levels E / EI / EIB in the `paper` regime on 10 seeds, each claim naming one level", () => {
    const s = readStudyFile(resolveStudyFile("paper-levels"))
    expect(s.plan).toHaveLength(30)
    expect(s.plan.every((r) => { const c = r.config as RunConfig; return c.method === "pmd" && c.steps === 500 && c.eval.every === 100 })).toBe(true)
    expect(s.plan.slice(0, 3).map((r) => (r.config as RunConfig).memory.levels)).toEqual(["E", "EI", "EIB"])
    expect(s.claims.map((c) => [c.betterSetting, c.worseSetting])).toEqual([
      ["pmd memory.levels=EI", "pmd memory.levels=E"], ["pmd memory.levels=EIB", "pmd memory.levels=EI"],
      ["pmd memory.levels=EI", "pmd memory.levels=E"], ["pmd memory.levels=EIB", "pmd memory.levels=EI"]
    ])
  })

  it("paper-rehearsal plans GRPO and PMD with rehearsal in the `paper` regime on 10 seeds, GRPO otherwise as in paper-500", () => {
    const s = readStudyFile(resolveStudyFile("paper-rehearsal"))
    const plain = readStudyFile(resolveStudyFile("paper-500"))
    expect(s.plan).toHaveLength(20)
    const of = (plan: typeof s.plan, method: string) => plan.filter((r) => (r.config as RunConfig).method === method).map((r) => r.config as RunConfig)
    expect(of(s.plan, "pmd").every((c) => c.memory.rehearsal === 0.5 && c.memory.levels === "E" && c.steps === 500)).toBe(true)
    // GRPO's config differs from paper-500's only by the rehearsal weight it never reads
    expect(of(s.plan, "grpo").map((c) => ({ ...c, memory: { ...c.memory, rehearsal: undefined } }))).toEqual(
      of(plain.plan, "grpo").map((c) => ({ ...c, memory: { ...c.memory, rehearsal: undefined } }))
    )
    expect(s.claims.map((c) => c.id)).toEqual(["pmd>grpo", "pmd>grpo transfer"])
  })

  it("paper-passk plans paper-rehearsal's runs on fresh seeds 519-528, with claims on pass@k, greedy and avg@k", () => {
    const s = readStudyFile(resolveStudyFile("paper-passk"))
    const rehearsal = readStudyFile(resolveStudyFile("paper-rehearsal"), Array.from({ length: 10 }, (_, i) => 519 + i))
    expect(s.plan.map((r) => r.config)).toEqual(rehearsal.plan.map((r) => r.config))
    expect(s.claims.map((c) => c.metric)).toEqual(["internalization pass@k", "transfer pass@k", "internalization greedy", "internalization avg@k"])
  })

  it("paper-controls plans the five methods of paper-passk's config on fresh seeds 529-538, PMD against each control", () => {
    const s = readStudyFile(resolveStudyFile("paper-controls"))
    const passk = readStudyFile(resolveStudyFile("paper-passk"), Array.from({ length: 10 }, (_, i) => 529 + i))
    expect(s.plan).toHaveLength(50)
    // GRPO and PMD exactly as in paper-passk's config, re-seeded: the controls are the only new runs
    const of = (plan: typeof s.plan, method: string) => plan.filter((r) => (r.config as RunConfig).method === method).map((r) => r.config)
    for (const m of ["grpo", "pmd"]) expect(of(s.plan, m)).toEqual(of(passk.plan, m))
    expect(s.plan.every((r) => (r.config as RunConfig).memory.rehearsal === 0.5 && (r.config as RunConfig).steps === 500)).toBe(true)
    expect(new Set(s.plan.map((r) => r.seed))).toEqual(new Set(Array.from({ length: 10 }, (_, i) => 529 + i)))
    expect(s.claims.map((c) => `${c.better}>${c.worse} ${c.metric}`)).toEqual(["sdpo", "pmd-transient", "frozen-memory"].flatMap((w) =>
      ["internalization pass@k", "transfer pass@k", "internalization avg@k"].map((m) => `pmd>${w} ${m}`)))
  })

  it("paper-levels-kept plans the same levels with rehearsal and without lessons, the same claims", () => {
    const s = readStudyFile(resolveStudyFile("paper-levels-kept"))
    const levels = readStudyFile(resolveStudyFile("paper-levels"))
    expect(s.plan).toHaveLength(30)
    expect(s.plan.every((r) => { const c = r.config as RunConfig; return c.memory.sharpen === "no-lessons" && c.memory.rehearsal === 0.5 && c.steps === 500 })).toBe(true)
    expect(s.plan.map((r) => (r.config as RunConfig).memory.levels)).toEqual(levels.plan.map((r) => (r.config as RunConfig).memory.levels))
    expect(s.claims).toEqual(levels.claims)
  })

  it("paper-levels-bootstrapped plans the same levels from the bootstrapped base with rehearsal", () => {
    const s = readStudyFile(resolveStudyFile("paper-levels-bootstrapped"))
    const levels = readStudyFile(resolveStudyFile("paper-levels"))
    expect(s.plan).toHaveLength(30)
    expect(s.plan.every((r) => { const c = r.config as RunConfig; return c.base === "bootstrapped" && c.memory.rehearsal === 0.5 && c.steps === 500 })).toBe(true)
    expect(s.plan.map((r) => (r.config as RunConfig).memory.levels)).toEqual(levels.plan.map((r) => (r.config as RunConfig).memory.levels))
    expect(s.claims).toEqual(levels.claims)
  })
})

const claim = (over: Partial<ResolvedClaim> = {}): ResolvedClaim =>
  ({ ...CLAIM, betterSetting: "pmd", worseSetting: "grpo", ...over })
const settings = (better: Record<number, number>, worse: Record<number, number>): Map<string, SeedMetrics> => {
  const of = (name: string, vs: Record<number, number>) =>
    seedMetrics(name, name, {}, Object.entries(vs).map(([s, v]) => ({ seed: Number(s), metrics: { "internalization avg@k": v } })))
  return new Map([["pmd", of("pmd", better)], ["grpo", of("grpo", worse)]])
}

describe("verdicts (hand-computed)", () => {
  it("holds: differences 0.10, 0.12, 0.14 → mean 0.12, half t(2)·0.02/√3 = 0.0497, interval above 0", () => {
    const [r] = judgeClaims([claim()], settings({ 1: 0.6, 2: 0.62, 3: 0.64 }, { 1: 0.5, 2: 0.5, 3: 0.5 }))
    expect(r!.verdict).toBe("holds")
    expect(r!.n).toBe(3)
    expect(r!.mean).toBeCloseTo(0.12, 10)
    expect(r!.half).toBeCloseTo((4.303 * 0.02) / Math.sqrt(3), 3)
    expect(r!.lo).toBeCloseTo(0.0703, 3)
  })

  it("reversed: the same differences with the sign flipped", () => {
    const [r] = judgeClaims([claim()], settings({ 1: 0.5, 2: 0.5, 3: 0.5 }, { 1: 0.6, 2: 0.62, 3: 0.64 }))
    expect(r!.verdict).toBe("reversed")
    expect(r!.hi).toBeCloseTo(-0.0703, 3)
  })

  it("unresolved: differences 0.1, 0.2, 0.3 → mean 0.2 ± 0.248, the interval contains 0", () => {
    const [r] = judgeClaims([claim()], settings({ 1: 0.6, 2: 0.7, 3: 0.8 }, { 1: 0.5, 2: 0.5, 3: 0.5 }))
    expect(r!.verdict).toBe("unresolved")
    expect(r!.half).toBeCloseTo((4.303 * 0.1) / Math.sqrt(3), 3)
    expect(r!.seedsNeeded).toBeGreaterThan(3)
  })

  it("unresolved (n < 2): only one seed pairs, or none", () => {
    const [one] = judgeClaims([claim()], settings({ 1: 0.9, 2: 0.9 }, { 2: 0.1, 3: 0.1 }))
    expect(one!.verdict).toBe("unresolved (n < 2)")
    expect(one!.n).toBe(1)
    expect(one!.mean).toBeCloseTo(0.8, 10)
    expect(one!.half).toBeNull()
    const [none] = judgeClaims([claim()], settings({ 1: 0.9 }, { 2: 0.1 }))
    expect(none).toMatchObject({ verdict: "unresolved (n < 2)", n: 0, mean: null })
    expect(verdictOf(null)).toBe("unresolved (n < 2)")
    expect(formatClaimsTable([one!, none!])).toMatch(/pmd>grpo\s+PMD beats GRPO\s+\+80\.0 \(n 1, need ∞\)\s+unresolved \(n < 2\)/)
  })
})

describe("a study on other seeds (--seeds)", () => {
  it("reads seed lists and ranges, and refuses anything else naming --seeds", () => {
    expect(parseSeedList("511-514")).toEqual([511, 512, 513, 514])
    expect(parseSeedList("1, 4,9")).toEqual([1, 4, 9])
    expect(parseSeedList("1-3,7")).toEqual([1, 2, 3, 7])
    expect(parseSeedList("0")).toEqual([0])
    for (const bad of ["", "a", "5-3", "1,,2", "-1", "1.5", "1-3,2", "0-1000", "99999999999999999999"]) {
      expect(() => parseSeedList(bad), bad).toThrow(StudyConfigError)
      expect(() => parseSeedList(bad), bad).toThrow(/^--seeds /)
    }
  })

  it("plans the study's settings and claims on the seeds given, nothing else changed", () => {
    const own = readStudyFile(resolveStudyFile("paper-rehearsal"))
    const fresh = readStudyFile(resolveStudyFile("paper-rehearsal"), [511, 512, 513])
    expect(fresh.plan.map((r) => (r.config as RunConfig).seed)).toEqual([511, 512, 513, 511, 512, 513])
    expect(fresh.claims).toEqual(own.claims)
    const configOf = (plan: typeof own.plan, seed: number) => plan.filter((r) => (r.config as RunConfig).seed === seed).map((r) => ({ ...(r.config as RunConfig), seed: 0 }))
    expect(configOf(fresh.plan, 511)).toEqual(configOf(own.plan, 501))
  })
})

describe("pmdsim study", () => {
  const root = tmp("study")
  const file = join(root, "tiny-study.json")
  writeFileSync(file, JSON.stringify({
    question: "Does PMD beat GRPO in two tiny steps?",
    sweep: { ...SWEEP, parallel: 1, set: { steps: 2, base: "scratch", "eval.problems": 4, "domainOptions.clusters": 4, "domainOptions.trainPerCluster": 4, "domainOptions.heldoutPerCluster": 2 } },
    claims: [CLAIM]
  }))

  it("a bad study file exits 2 naming the field, before any run", () => {
    const bad = join(root, "bad.json")
    writeFileSync(bad, JSON.stringify({ question: "q", sweep: SWEEP, claims: [{ ...CLAIM, better: "sdpo" }] }))
    const r = cli(["study", bad, "--out", join(root, "bad")])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/StudyConfigError: .*\n.*claim "pmd>grpo": better "sdpo" names no setting/)
    expect(existsSync(join(root, "bad"))).toBe(false)
    writeFileSync(bad, JSON.stringify({ question: "q", sweep: SWEEP, claims: [{ ...CLAIM, weight: 2 }] }))
    const field = cli(["study", bad, "--out", join(root, "bad")])
    expect(field.status).toBe(2)
    expect(field.stderr).toMatch(/StudyConfigError: invalid study file .*bad\.json[\s\S]*weight/)
    expect(existsSync(join(root, "bad"))).toBe(false)
    const seeds = cli(["study", file, "--seeds", "3-1", "--out", join(root, "bad")])
    expect(seeds.status).toBe(2)
    expect(seeds.stderr).toMatch(/StudyConfigError: --seeds "3-1": the range 3-1 is empty/)
    expect(existsSync(join(root, "bad"))).toBe(false)
    const unknown = cli(["study", "no-such-study", "--out", join(root, "bad")])
    expect(unknown.status).toBe(2)
    expect(unknown.stderr).toMatch(/no study "no-such-study".*shipped: .*paper/)
  })

  it("runs the sweep, writes study-summary.json and a report with the claims; a rerun skips the finished runs", () => {
    const out = join(root, "out")
    const first = cli(["study", file, "--out", out])
    expect(first.status, first.stdout + first.stderr).toBe(0)
    const summary = JSON.parse(readFileSync(join(out, "study-summary.json"), "utf8")) as { question: string; claims: Array<{ id: string; verdict: string; n: number; better: string; worse: string }> }
    expect(summary.question).toBe("Does PMD beat GRPO in two tiny steps?")
    expect(summary.claims).toHaveLength(1)
    expect(summary.claims[0]).toMatchObject({ id: "pmd>grpo", better: "pmd", worse: "grpo", n: 2 })
    expect(["holds", "reversed", "unresolved"]).toContain(summary.claims[0]!.verdict)
    expect(first.stdout).toMatch(/claim\s+statement\s+better − worse \(points\)\s+verdict/)
    const html = readFileSync(join(out, "report.html"), "utf8")
    expect(html).toContain(`<section id="claims">`)
    expect(html).toContain("Does PMD beat GRPO in two tiny steps?")
    expect(html).toContain(summary.claims[0]!.verdict)
    const again = cli(["study", file, "--out", out])
    expect(again.status, again.stdout + again.stderr).toBe(0)
    expect(again.stdout).toMatch(/sweep: 4 runs \(4 done, 0 to resume, 0 to redo, 0 new\)/)
    expect(JSON.parse(readFileSync(join(out, "study-summary.json"), "utf8"))).toEqual(summary)
    // --seeds: the same study on another seed, in its own directory
    const other = cli(["study", file, "--seeds", "5", "--out", join(root, "other")])
    expect(other.status, other.stdout + other.stderr).toBe(0)
    expect(other.stdout).toMatch(/sweep: 2 runs/)
    expect(JSON.parse(readFileSync(join(root, "other", "study-summary.json"), "utf8")).claims[0]).toMatchObject({ n: 1, seeds: [5], verdict: "unresolved (n < 2)" })
    // a damaged summary is a typed error naming the file and field (exit 2), from the report
    writeFileSync(join(out, "study-summary.json"), JSON.stringify({ ...summary, claims: [{ ...summary.claims[0], verdict: "maybe" }] }))
    const report = cli(["report", out])
    expect(report.status).toBe(2)
    expect(report.stderr).toMatch(/StudySummaryFileError: .*study-summary\.json: claims\[0\]\.verdict must be one of/)
  }, 180_000)
})
