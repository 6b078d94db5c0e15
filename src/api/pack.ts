/**
 * `npm pack`'s prepack step (not part of the library): builds dist/, the compiled package. Node strips
 * types only outside node_modules, so an installed pmdsim runs JavaScript: dist/ mirrors the repository
 * (dist/src/..., dist/actors/...) with `.js` + `.d.ts` from tsc (tsconfig.build.json), plus the files
 * the runtime reads by path, at the same relative places:
 *   src/experiments/warmup/base/<domain>/*   the committed base checkpoints (warmup/base.ts)
 *   src/numeric/wasm/pthreadWorker.cjs       the wasm backend's thread worker (numeric/wasm/threads.ts)
 *   studies/*.json                           the embedded studies (cli/commands/study.ts: ../../../studies)
 * Then it checks every `new URL("<literal>", import.meta.url)` in dist/ points at a file that exists,
 * and that no compiled module still imports a `.ts` file.
 *
 *   node src/api/pack.ts          (run by `npm pack` through the "prepack" script)
 */
import { spawnSync } from "node:child_process"
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..")
const dist = join(root, "dist")

const ASSETS: ReadonlyArray<string> = ["src/experiments/warmup/base", "src/numeric/wasm/pthreadWorker.cjs", "studies"]

const walk = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((n) => {
    const p = join(dir, n)
    return statSync(p).isDirectory() ? walk(p) : [p]
  })

const fail = (why: string): never => {
  console.error(`pack: ${why}`)
  process.exit(1)
}

rmSync(dist, { recursive: true, force: true })
const tsc = spawnSync(join(root, "node_modules", ".bin", process.platform === "win32" ? "tsc.cmd" : "tsc"), ["-p", join(root, "tsconfig.build.json")], { stdio: "inherit" })
if (tsc.status !== 0) fail(`tsc -p tsconfig.build.json failed (exit ${tsc.status})`)

for (const a of ASSETS) {
  const from = join(root, a)
  if (!existsSync(from)) fail(`missing asset ${a}`)
  cpSync(from, join(dist, a), { recursive: true })
}

// Declarations keep the specifiers written in the sources (`import type ... from "./x.ts"`): point them at
// the emitted `.d.ts` / `.js` names, so a consumer's TypeScript resolves them without allowImportingTsExtensions.
const files = walk(dist)
for (const f of files.filter((x) => x.endsWith(".d.ts"))) {
  const text = readFileSync(f, "utf8")
  const fixed = text.replace(/((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']+)\.ts(["'])/g, "$1$2.js$3")
  if (fixed !== text) writeFileSync(f, fixed)
}

// Self-check: what the compiled code reads by path exists, and nothing imports TypeScript any more.
const problems: Array<string> = []
for (const f of files.filter((x) => x.endsWith(".js"))) {
  const text = readFileSync(f, "utf8")
  for (const m of text.matchAll(/new URL\(\s*["'`]([^"'`$]+)["'`]\s*,\s*import\.meta\.url\s*\)/g)) {
    const target = resolve(dirname(f), m[1]!)
    if (!existsSync(target)) problems.push(`${relative(root, f)} reads ${m[1]} (${relative(root, target)}): not in dist/`)
  }
  for (const m of text.matchAll(/(?:from\s*|import\s*\(\s*)["'](\.{1,2}\/[^"']+\.ts)["']/g)) problems.push(`${relative(root, f)} imports ${m[1]}`)
}
for (const need of ["dist/src/cli/main.js", "dist/actors/verifier/worker.js", "dist/src/api/index.d.ts", "dist/src/plugins/index.d.ts", "dist/src/testing/index.d.ts"]) {
  if (!existsSync(join(root, need))) problems.push(`${need} is missing`)
}
if (problems.length > 0) fail(`dist/ is incomplete:\n  ${problems.join("\n  ")}`)
console.log(`pack: dist/ built (${walk(dist).length} files)`)
