import { describe, expect, it } from "vitest"
import { test as fcTest, fc } from "@fast-check/vitest"
import { hashValue } from "../../src/core/Hash.ts"
import { Rng } from "../../src/core/Rng.ts"
import { Control } from "../../src/domains/control.ts"
import { DomainConfigError, UnknownProblem } from "../../src/domains/Domain.ts"
import { makeDomain } from "../../src/domains/index.ts"
import { combine } from "../../src/domains/science/generate.ts"
import { makeScienceDomain } from "../../src/domains/science/scienceDomain.ts"
import { ErrKind, LETTER_BASE, Mark, Subdomain, VOCAB_SIZE, digitToken, letterToken, propertyToken } from "../../src/domains/vocab.ts"

const d = makeScienceDomain({}, 5)
const all = [...d.problems("train"), ...d.problems("heldout")]

describe("science generator", () => {
  it("same seed, same questions byte for byte; another seed differs; makeDomain agrees", () => {
    expect(hashValue(makeScienceDomain({}, 5).problems("train"))).toBe(hashValue(d.problems("train")))
    expect(hashValue(makeScienceDomain({}, 6).problems("train"))).not.toBe(hashValue(d.problems("train")))
    expect(makeDomain({ name: "science", seed: 5 }).fingerprint).toBe(d.fingerprint)
  })

  it("families share a skill and a subdomain; all four subdomains occur", () => {
    const skill = new Map<number, string>()
    for (const p of all) {
      const s = `${d.skill(p).join(",")}/${p.subdomain}`
      expect(skill.get(p.cluster) ?? s).toBe(s)
      skill.set(p.cluster, s)
    }
    expect(new Set(skill.values()).size).toBe(16)
    expect(new Set(all.map((p) => p.subdomain)).size).toBe(4)
  })

  it("the stored answer follows the family's rule; options are 4 distinct properties", () => {
    for (const p of all) {
      const v = (f: number) => p.entity.find(([g]) => g === f)![1]
      const w = combine(p.family.combiner, v(p.family.features[0]), v(p.family.features[1]))
      expect(p.working).toEqual([w, p.family.table[w]])
      expect(p.options[p.answer]).toBe(p.family.table[w])
      expect(new Set(p.options).size).toBe(4)
      expect(p.difficulty).toBe(p.entity.length - 2)
    }
  })

  it("splits are disjoint and held-out questions cover every family", () => {
    const key = (p: (typeof all)[number]) => `${p.cluster}:${JSON.stringify(p.entity)}`
    const train = new Set(d.problems("train").map(key))
    for (const p of d.problems("heldout")) expect(train.has(key(p))).toBe(false)
    expect(new Set(d.problems("heldout").map((p) => p.cluster)).size).toBe(16)
    expect(() => d.problem("science/f99/t000")).toThrow(UnknownProblem)
    expect(() => makeScienceDomain({ featuresMin: 1 })).toThrow(DomainConfigError)
  })

  it("prompts: [PROB] ... [ANS], fixed question, only the cue varies per visit", () => {
    const p = all[0]!
    const a = d.prompt(p, Rng.root(1))
    expect(a[0]).toBe(Control.PROB)
    expect(a.at(-1)).toBe(Control.ANS)
    expect(a[3]).toBe(Subdomain[p.subdomain])
    expect(a.every((t) => t >= 0 && t < VOCAB_SIZE)).toBe(true)
    for (let v = 0; v < 10; v++) expect(d.prompt(p, Rng.root(v)).slice(3)).toEqual(a.slice(3))
  })
})

describe("science knob skillTable", () => {
  it("appends the family's table as digit-property pairs; questions and the default domain stay unchanged", () => {
    const t = makeScienceDomain({ skillTable: true }, 5)
    expect(hashValue(t.problems("train"))).toBe(hashValue(d.problems("train")))
    expect(hashValue(t.problems("heldout"))).toBe(hashValue(d.problems("heldout")))
    for (const p of all.slice(0, 40)) {
      const s = t.skill(t.problem(p.id))
      expect(s.slice(0, 3)).toEqual(d.skill(p))
      expect(d.skill(p)).toHaveLength(3)
      expect(s.slice(3)).toEqual(p.family.table.flatMap((q, w) => [digitToken(w), propertyToken(q)]))
      // the step-2 lookup of the skill gives the working's property
      expect(s[3 + 2 * p.working[0] + 1]).toBe(propertyToken(p.working[1]))
    }
    // absent from the defaults: the default domain's fingerprint does not name it
    expect(makeScienceDomain({}, 5).config).not.toHaveProperty("skillTable")
    expect(t.fingerprint).not.toBe(d.fingerprint)
    expect(() => makeScienceDomain({ skillTable: 1 as never })).toThrow(DomainConfigError)
  })
})

describe("science knob optionLayout", () => {
  it("propertyFirst shows each option as property then letter; same questions, same letters, same verdicts", () => {
    const f = makeScienceDomain({ optionLayout: "propertyFirst" }, 5)
    for (const p of all.slice(0, 40)) {
      const a = d.prompt(p, Rng.root(3))
      const b = f.prompt(f.problem(p.id), Rng.root(3))
      const at = a.indexOf(Control.SEP) + 1
      expect(b.slice(0, at)).toEqual(a.slice(0, at))
      expect(b.slice(at, at + 8)).toEqual(p.options.flatMap((q, i) => [propertyToken(q), letterToken(i)]))
      expect(a.slice(at, at + 8)).toEqual(p.options.flatMap((q, i) => [letterToken(i), propertyToken(q)]))
      expect(b.at(-1)).toBe(Control.ANS)
      expect(f.verify(f.problem(p.id), d.solution(p), "eval").solved).toBe(true)
    }
    expect(makeScienceDomain({}, 5).config).not.toHaveProperty("optionLayout")
    expect(hashValue(makeScienceDomain({ optionLayout: "letterFirst" }, 5).prompt(all[0]!, Rng.root(1)))).toBe(hashValue(d.prompt(all[0]!, Rng.root(1))))
    expect(() => makeScienceDomain({ optionLayout: "yes" as never })).toThrow(DomainConfigError)
  })

  it("slots: slot k holds the letter of property k or [UNK]; the answer's slot is the working's property", () => {
    const f = makeScienceDomain({ optionLayout: "slots" }, 5)
    for (const p of all.slice(0, 40)) {
      const b = f.prompt(f.problem(p.id), Rng.root(3))
      const at = b.indexOf(Control.SEP) + 1
      const slots = b.slice(at, at + 8)
      expect(b.length).toBe(at + 9)
      expect(slots.filter((t) => t === Control.UNK)).toHaveLength(4)
      p.options.forEach((q, i) => expect(slots[q]).toBe(letterToken(i)))
      expect(slots[p.working[1]]).toBe(letterToken(p.answer))
    }
  })
})

describe("science verifier", () => {
  const p = all[7]!
  const other = (p.answer + 1) % 4

  it("the reference scores 1 in both reward modes and both protocols", () => {
    const steps = makeScienceDomain({ reward: "steps" }, 5)
    for (const q of all) {
      expect(d.verify(q, d.solution(q), "train").reward).toBe(1)
      expect(d.verify(q, d.solution(q), "eval")).toMatchObject({ reward: 1, solved: true, feedback: [] })
      expect(steps.verify(steps.problem(q.id), steps.solution(q), "eval")).toMatchObject({ reward: 1, passed: 3, total: 3 })
    }
  })

  it("the last letter counts; a wrong letter is reported with [FB] got L [END]", () => {
    expect(d.verify(p, [letterToken(other), letterToken(p.answer), Control.EOS], "eval").reward).toBe(1)
    expect(d.verify(p, [letterToken(p.answer), letterToken(other)], "eval")).toMatchObject({
      reward: 0, feedback: [Control.FB, Mark.GOT, letterToken(other), Control.END]
    })
    expect(d.verify(p, [letterToken(other), Control.EOS, letterToken(p.answer)], "eval").reward).toBe(0)
    expect(d.verify(p, [digitToken(3), Control.EOS], "eval")).toMatchObject({
      reward: 0, error: "parse", feedback: [Control.FB, Control.ERR, ErrKind.E_PARSE, Control.END]
    })
  })

  it("steps mode credits correct working even with a wrong letter", () => {
    const steps = makeScienceDomain({ reward: "steps" }, 5)
    const q = steps.problem(p.id)
    const [w, prop] = q.working
    const v = steps.verify(q, [digitToken(w), propertyToken(prop), letterToken(other), Control.EOS], "eval")
    expect(v).toMatchObject({ passed: 2, total: 3, solved: false })
    expect(v.reward).toBeCloseTo(2 / 3)
    const bad = steps.verify(q, [digitToken((w + 1) % 10), propertyToken(prop), letterToken(q.answer)], "eval")
    expect(bad.feedback).toEqual([Control.FB, Mark.GOT, digitToken((w + 1) % 10), Control.END])
  })

  fcTest.prop([fc.array(fc.integer({ min: -3, max: LETTER_BASE + 8 }), { maxLength: 20 })], { seed: 9, numRuns: 300 })(
    "any token sequence gets a verdict in [0, 1] without throwing", (tokens) => {
      for (const q of [p, all[100]!]) {
        const v = d.verify(q, tokens, "eval")
        expect(v.reward >= 0 && v.reward <= 1).toBe(true)
        expect(v.solved).toBe(v.reward === 1)
      }
    }
  )
})
