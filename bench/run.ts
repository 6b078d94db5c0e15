/**
 * `npm run bench [filter]`: runs every bench/**\/*.bench.ts (or those whose path contains `filter`)
 * one after another in its own process, so one benchmark's heap and tfjs state never skew the next.
 * Each benchmark prints its own table, with ratios against a baseline measured in the same run.
 */
import { spawnSync } from "node:child_process"
import { readdirSync } from "node:fs"
import { join, relative } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL(".", import.meta.url))
const filter = process.argv[2] ?? ""
const files = readdirSync(root, { recursive: true, encoding: "utf8" })
  .filter((f) => f.endsWith(".bench.ts") && f.includes(filter))
  .sort()
let failed = 0
for (const file of files) {
  console.log(`\n=== bench/${relative(root, join(root, file))}`)
  const r = spawnSync(process.execPath, [join(root, file)], { stdio: "inherit" })
  if (r.status !== 0) failed++
}
if (files.length === 0) console.log(`no benchmark matches '${filter}'`)
process.exit(failed === 0 ? 0 : 1)
