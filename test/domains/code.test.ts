import { describe, expect, it } from "vitest"
import { test as fcTest, fc } from "@fast-check/vitest"
import { hashValue } from "../../src/core/Hash.ts"
import { Rng } from "../../src/core/Rng.ts"
import { Control } from "../../src/domains/control.ts"
import { DomainConfigError, UnknownProblem } from "../../src/domains/Domain.ts"
import { makeCodeDomain } from "../../src/domains/code/codeDomain.ts"
import { ErrKind, Mark, Op, VOCAB_SIZE, digitToken, parseRendered } from "../../src/domains/vocab.ts"

const small = { clusters: 6, trainPerCluster: 10, heldoutPerCluster: 4 }
const d = makeCodeDomain(small, 11)
const all = [...d.problems("train"), ...d.problems("heldout")]

describe("code generator", () => {
  it("same seed, same problems byte for byte; another seed differs", () => {
    const again = makeCodeDomain(small, 11)
    expect(hashValue(again.problems("train"))).toBe(hashValue(d.problems("train")))
    expect(hashValue(again.problems("heldout"))).toBe(hashValue(d.problems("heldout")))
    expect(again.fingerprint).toBe(d.fingerprint)
    expect(hashValue(makeCodeDomain(small, 12).problems("train"))).not.toBe(hashValue(d.problems("train")))
  })

  it("clusters share their skill; skills differ across clusters; the skill is part of every program", () => {
    const skillOf = new Map<number, string>()
    for (const p of all) {
      const s = d.skill(p).join(",")
      expect(skillOf.get(p.cluster) ?? s).toBe(s)
      skillOf.set(p.cluster, s)
      const prog = p.program.join(",")
      expect(prog.includes(s)).toBe(true)
      expect(d.skill(p)).toHaveLength(2)
    }
    expect(new Set(skillOf.values()).size).toBe(small.clusters)
  })

  it("splits are disjoint (ids and programs), sized as configured, sorted by id", () => {
    const train = d.problems("train")
    const held = d.problems("heldout")
    expect(train).toHaveLength(60)
    expect(held).toHaveLength(24)
    const key = (p: (typeof all)[number]) => `${p.cluster}:${p.program.join(",")}`
    const trainKeys = new Set(train.map(key))
    for (const p of held) expect(trainKeys.has(key(p))).toBe(false)
    expect(new Set(all.map((p) => p.id)).size).toBe(all.length)
    expect(train.map((p) => p.id)).toEqual([...train.map((p) => p.id)].sort())
    for (const c of Array.from({ length: small.clusters }, (_, i) => i)) {
      expect(held.some((p) => p.cluster === c)).toBe(true)
    }
  })

  it("the reference solution scores 1 under both protocols on every problem", () => {
    for (const p of all) {
      for (const protocol of ["train", "eval"] as const) {
        const v = d.verify(p, d.solution(p), protocol)
        expect(v).toMatchObject({ reward: 1, solved: true, feedback: [] })
        expect(v.total).toBe(protocol === "train" ? p.tests.length / 2 : p.tests.length)
      }
    }
  })

  it("difficulty spreads over the tiers; prompts are 30-60 tokens and framed by [PROB] ... [ANS]", () => {
    const big = makeCodeDomain({}, 3)
    const tiers = new Set(big.problems("train").map((p) => p.difficulty))
    expect([...tiers].sort()).toEqual([0, 1, 2, 3])
    for (const p of big.problems("train").slice(0, 50)) {
      const prompt = big.prompt(p, Rng.root(1).fork(p.id))
      expect(prompt[0]).toBe(Control.PROB)
      expect(prompt.at(-1)).toBe(Control.ANS)
      expect(prompt.length).toBeGreaterThanOrEqual(25)
      expect(prompt.length).toBeLessThanOrEqual(60)
      expect(prompt.every((t) => t >= 0 && t < VOCAB_SIZE)).toBe(true)
    }
  })

  it("examples are re-drawn per visit; the same visit stream gives the same prompt", () => {
    const p = all[0]!
    const a = d.prompt(p, Rng.root("visit").fork(p.id, 0))
    expect(d.prompt(p, Rng.root("visit").fork(p.id, 0))).toEqual(a)
    const distinct = new Set(Array.from({ length: 8 }, (_, v) => d.prompt(p, Rng.root("visit").fork(p.id, v)).join(",")))
    expect(distinct.size).toBeGreaterThan(4)
  })

  it("the cue names the cluster's bucket about cueAccuracy of the time", () => {
    let right = 0
    const n = 400
    for (let v = 0; v < n; v++) {
      const p = all[v % all.length]!
      const prompt = d.prompt(p, Rng.root("cue").fork(v))
      if (prompt[2] === 55 + p.cue) right++
    }
    expect(right / n).toBeGreaterThan(0.72)
    expect(right / n).toBeLessThan(0.88)
  })

  it("bad knobs and unknown ids are typed errors", () => {
    expect(() => makeCodeDomain({ clusters: 0 })).toThrow(DomainConfigError)
    expect(() => makeCodeDomain({ testsPerProblem: 3 })).toThrow(DomainConfigError)
    expect(() => makeCodeDomain({ clusters: 2, trainPerCluster: 200, heldoutPerCluster: 200 })).toThrow(DomainConfigError)
    expect(() => d.problem("code/c99/t000")).toThrow(UnknownProblem)
    expect(d.problem(all[3]!.id)).toBe(all[3])
  })
})

describe("code verifier", () => {
  const p = d.problems("train").find((q) => q.difficulty === 0 && q.program.includes(Op.push))!

  it("a wrong program fails with the first failing test as feedback", () => {
    const wrong = [...p.skill, Op.push, digitToken((p.program.at(-1)! - 16 + 1) % 10), Control.EOS]
    const v = d.verify(p, wrong, "eval")
    expect(v).toMatchObject({ reward: 0, solved: false, passed: 0 })
    const t = p.tests[0]!
    expect(v.feedback.slice(0, 1 + t.input.length + 1)).toEqual([Control.FB, ...t.input.map(digitToken), Mark.ARROW])
    expect(v.feedback).toContain(Mark.GOT)
    expect(v.feedback.at(-1)).toBe(Control.END)
  })

  it("the skill alone fails; tokens after [EOS] are ignored", () => {
    expect(d.verify(p, [...p.skill, Control.EOS], "eval").reward).toBe(0)
    expect(d.verify(p, [...d.solution(p), Op.rev, Op.rev], "eval").reward).toBe(1)
  })

  it("malformed programs get [FB] [ERR] parse", () => {
    for (const r of [[Op.take, Control.EOS], [Op.rep, digitToken(2)], [Mark.ARROW], [Op.add, Op.rev]]) {
      expect(d.verify(p, r, "train")).toMatchObject({
        reward: 0, error: "parse", feedback: [Control.FB, Control.ERR, ErrKind.E_PARSE, Control.END]
      })
    }
  })

  it("runtime errors are reported by kind: fuel, size, div0, toolong", () => {
    const rep9 = [Op.rep, digitToken(9)]
    expect(d.verify(p, [...rep9, ...rep9, ...rep9, Op.rev], "eval").error).toBe("fuel")
    expect(d.verify(p, [...rep9, Op.dup], "eval").error).toBe("size")
    expect(d.verify(p, [Op.mod, digitToken(0)], "eval").error).toBe("div0")
    expect(d.verify(p, Array.from({ length: 13 }, () => Op.rev), "eval").error).toBe("toolong")
    expect(d.verify(p, parseRendered("mod 0"), "eval").feedback).toEqual([Control.FB, Control.ERR, ErrKind.E_DIV, Control.END])
  })

  it("partial credit counts passed tests; the train protocol checks half of them", () => {
    const dp = makeCodeDomain({ ...small, reward: "partial" }, 11)
    const q = dp.problem(p.id)
    const v = dp.verify(q, [...q.skill, Control.EOS], "eval")
    expect(v.reward).toBeCloseTo(v.passed / v.total)
    expect(dp.verify(q, dp.solution(q), "train")).toMatchObject({ reward: 1, passed: 4, total: 4 })
  })

  fcTest.prop([fc.array(fc.oneof(fc.integer({ min: -5, max: 140 }), fc.integer({ min: 26, max: 54 })), { maxLength: 40 })], {
    seed: 7, numRuns: 400
  })("hostile token sequences never throw, finish within fuel, and get a verdict with feedback", (tokens) => {
    const v = d.verify(p, tokens, "eval")
    expect(v.reward === 0 || v.reward === 1).toBe(true)
    if (v.reward === 0) expect(v.feedback[0]).toBe(Control.FB)
    expect(v.passed).toBeLessThanOrEqual(v.total)
  })

  fcTest.prop([fc.array(fc.oneof(fc.constantFrom(Op.rep, Op.dup, Op.csum, Op.take, Op.mod), fc.integer({ min: 16, max: 25 })), { maxLength: 12 })], {
    seed: 8, numRuns: 300
  })("rep-heavy programs stay bounded", (tokens) => {
    const v = d.verify(p, tokens, "eval")
    expect(v.reward).toBeLessThanOrEqual(1)
  })
})
