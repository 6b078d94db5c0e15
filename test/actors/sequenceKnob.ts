/**
 * The run-level check shared by the knobs that add next-token sequences to the update (`memory.rehearsal`,
 * `memory.recall`): absent and `zero` give the same run, `on` another whose train rows count the added
 * sequences (`diagnostics[rowsField]`), and `bad` is refused with exit 2 naming the knob.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { expect } from "vitest"
import { cli, SETS, summaryOf, tmp } from "../experiments/cliHelpers.ts"

export const checkSequenceKnobInRun = (knob: string, values: { readonly zero: string; readonly on: string; readonly bad: string }, rowsField: string): void => {
  const root = tmp(knob.replace(/\W/g, "-"))
  // the committed base solves some problems (a scratch network solves none: nothing to add)
  const args = ["run", "--preset", "tiny", "--method", "pmd", ...SETS, "--set", "base=warmup"]
  const run = (name: string, value?: string) => cli([...args, ...(value === undefined ? [] : ["--set", `${knob}=${value}`]), "--out", join(root, name)])
  expect(run("absent").status).toBe(0)
  expect(run("zero", values.zero).status).toBe(0)
  expect(run("on", values.on).status).toBe(0)
  expect(summaryOf(join(root, "zero")).finalStateHash).toBe(summaryOf(join(root, "absent")).finalStateHash)
  expect(summaryOf(join(root, "on")).finalStateHash).not.toBe(summaryOf(join(root, "absent")).finalStateHash)
  const counted = readFileSync(join(root, "on", "metrics.jsonl"), "utf8").split("\n")
    .flatMap((l) => l.includes(`"${rowsField}"`) ? [JSON.parse(l).diagnostics[rowsField] as number] : [])
  expect(counted.length).toBeGreaterThan(0)
  expect(counted.some((n) => n > 0)).toBe(true)
  const refused = run("bad", values.bad)
  expect(refused.status).toBe(2)
  expect(refused.stderr).toMatch(new RegExp(knob.split(".").at(-1)!))
}
