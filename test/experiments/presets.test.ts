/** The embedded presets: each one a valid config; `stable` differs from `default` exactly where the README says. */
import { describe, expect, it } from "vitest"
import { presets } from "../../src/config/presets.ts"
import { resolveConfig, resultFieldDiff, validateConfig } from "../../src/config/resolve.ts"

describe("presets", () => {
  it("every preset is a valid, complete config", () => {
    for (const [name, cfg] of Object.entries(presets)) expect(validateConfig(cfg, `preset ${name}`)).toEqual(cfg)
  })

  it("stable = default + a teacher only where a solution is shown, interpolated with the base, over 200 steps", () => {
    expect(resultFieldDiff(presets["default"]!, presets["stable"]!)).toEqual(["eval.every", "sdpo.includeFeedback", "sdpo.teacherNeedsSolution", "steps", "teacher.interpolation"])
    const s = presets["stable"]!
    expect([s.steps, s.sdpo.includeFeedback, s.sdpo.teacherNeedsSolution, s.teacher.interpolation]).toEqual([200, false, true, 0.5])
  })

  it("paper = stable over 500 steps, evaluated every 100 (the regime of the README's claims table)", () => {
    expect(resultFieldDiff(presets["stable"]!, presets["paper"]!)).toEqual(["eval.every", "steps"])
    expect([presets["paper"]!.steps, presets["paper"]!.eval.every]).toEqual([500, 100])
    // the same runs as `stable` with those two fields set (so a sweep finds them done either way)
    expect(resolveConfig({ preset: "paper" })).toEqual(resolveConfig({ preset: "stable", sets: ["steps=500", "eval.every=100"] }))
  })

  it("optional fields a preset leaves out can still be set", () => {
    expect(resolveConfig({ sets: ["eval.seed=7", "sdpo.teacherNeedsSolution=true"] })).toMatchObject({ eval: { seed: 7 }, sdpo: { teacherNeedsSolution: true } })
    expect(() => resolveConfig({ sets: ["eval.bogus=1"] })).toThrow(/no such config field/)
  })
})
