/**
 * Determinism rule 1 and 3 (ARCHITECTURE.md §4), enforced on the sources: no `Math.random(`,
 * `Date.now(` or `new Date(` in src/ or actors/ outside src/cli/ (the entry point). Comments are
 * ignored; strings and template literals are not (a string that calls them through eval would be
 * worse, and none should need to spell them).
 */
import { assert, describe, it } from "@effect/vitest"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join, sep } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../..", import.meta.url))
const FORBIDDEN = /Math\s*\.\s*random\s*\(|Date\s*\.\s*now\s*\(|new\s+Date\s*\(/g
const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/

const sourcesUnder = (dir: string): Array<string> =>
  existsSync(join(root, dir))
    ? readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })
      .filter((f) => SOURCE.test(f) && !f.split(sep).includes("node_modules"))
      .map((f) => join(dir, f))
    : []

/**
 * Blanks out comments, keeping strings and line numbers intact. Regex literals are not parsed: one that
 * contains a quote could hide code from the scan, which fails safe only in the sense that a reviewer
 * sees the regex; none in src/ does today.
 */
const stripComments = (text: string): string => {
  let out = ""
  let i = 0
  let quote: string | undefined
  while (i < text.length) {
    const c = text[i]!
    const next = text[i + 1]
    if (quote !== undefined) {
      out += c
      if (c === "\\") {
        out += next ?? ""
        i += 2
        continue
      }
      if (c === quote) quote = undefined
      i++
    } else if (c === "/" && next === "/") {
      while (i < text.length && text[i] !== "\n") i++
    } else if (c === "/" && next === "*") {
      i += 2
      while (i < text.length && !(text[i] === "*" && text[i + 1] === "/")) out += text[i++] === "\n" ? "\n" : ""
      i += 2
    } else {
      if (c === "\"" || c === "'" || c === "`") quote = c
      out += c
      i++
    }
  }
  return out
}

const violations = (file: string, text: string): Array<string> => {
  const code = stripComments(text)
  return [...code.matchAll(FORBIDDEN)].map((m) => {
    const line = code.slice(0, m.index).split("\n").length
    return `${file}:${line}: ${m[0]}`
  })
}

describe("no ambient nondeterminism in the sources", () => {
  it("the scanner ignores comments and catches code", () => {
    const sample = [
      "// Math.random() in a line comment",
      "/* Date.now() in a block",
      "   comment, new Date() */",
      "const s = \"// not a comment\"; const t = Date.now()",
      "const u = Math . random ()",
      "const v = new   Date(0)"
    ].join("\n")
    assert.deepStrictEqual(violations("x.ts", sample), [
      "x.ts:4: Date.now(",
      "x.ts:5: Math . random (",
      "x.ts:6: new   Date("
    ])
  })

  it("src/ and actors/ (outside src/cli/) never call Math.random, Date.now or new Date", () => {
    const files = [...sourcesUnder("src"), ...sourcesUnder("actors")]
      .filter((f) => !f.startsWith(join("src", "cli") + sep))
    assert.isAbove(files.length, 0)
    const found = files.flatMap((f) => violations(f, readFileSync(join(root, f), "utf8")))
    assert.deepStrictEqual(found, [])
  })
})
