/**
 * ARCHITECTURE §8 by test: every import edge between the layers is checked against the table of what a
 * layer may and may never import, and the folders (src/<layer>, actors/<actor>) must not import each other
 * in a cycle. Imports are read from the sources (static `import` / `export ... from` and `import("...")`,
 * comments stripped), so a new edge fails here before review.
 *
 * Edges that break a rule today are listed in KNOWN with the reason and the issue that removes them. The
 * list only shrinks: an edge not in it fails, and so does a listed edge that no longer exists (delete it).
 */
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join, normalize } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..")

/** A source file's folder: `src/<layer>` or `actors/<actor>`. */
const folderOf = (file: string): string => file.split("/").slice(0, 2).join("/")

const sources = (dir: string): Array<string> =>
  readdirSync(join(ROOT, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .map((f) => join(dir, f).split("\\").join("/"))

const stripComments = (text: string): string => text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1")

interface Edge { readonly from: string; readonly to: string; readonly spec: string }

/** Every import of a file: internal ones resolved to repository paths, packages by name. */
const importsOf = (file: string): Array<Edge> => {
  const text = stripComments(readFileSync(join(ROOT, file), "utf8"))
  const specs = [...text.matchAll(/(?:^|[\s;}])(?:import|export)\s[^"';]*?from\s*"([^"]+)"|(?:^|[\s;])import\s*"([^"]+)"|import\(\s*"([^"]+)"\s*\)/gm)]
    .map((m) => m[1] ?? m[2] ?? m[3]!)
  return specs.map((spec) => ({
    from: file,
    spec,
    to: spec.startsWith(".") ? normalize(join(dirname(file), spec)).split("\\").join("/") : `pkg:${spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]}`
  }))
}

const ALL_FILES = [...sources("src"), ...sources("actors")]
const EDGES = ALL_FILES.flatMap(importsOf)

/** The §8 table: what each layer must never import (an internal folder prefix or a package). */
const layerOf = (path: string): string => {
  if (path.startsWith("pkg:")) return path
  const folder = folderOf(path)
  if (folder.startsWith("actors/")) return "actors"
  return folder
}
const APP = new Set(["src/cli", "src/experiments", "src/report"])
/** An actor folder's public surface: its entry module (how to build it, composition root) and its protocol. */
const isActorEntry = (path: string): boolean => /^actors\/[^/]+\/(index|protocol)\.ts$/.test(path)
const TFJS = ["pkg:@tensorflow/tfjs", "pkg:@tensorflow/tfjs-backend-wasm", "pkg:@tensorflow/tfjs-node", "pkg:@tensorflow/tfjs-node-gpu"]

/** Why an edge breaks §8, or null. */
const violation = (e: Edge): string | null => {
  const from = layerOf(e.from)
  const to = layerOf(e.to)
  if (from === to && from !== "actors") return null
  switch (from) {
    case "src/numeric":
      if (to === "pkg:effect" || to === "actors" || to === "src/memory" || to === "src/runtime") return "numeric never imports Effect, actors, memory, runtime"
      return null
    case "src/domains":
      if (TFJS.includes(to) || to === "src/runtime" || to === "actors") return "domains never import tfjs, the Effect runtime, actors"
      return null
    case "src/memory":
      if (TFJS.includes(to) || to === "actors" || to === "src/numeric") return "memory never imports tfjs, actors"
      return null
    case "src/runtime":
      if (to === "src/numeric" || to === "src/domains" || to === "actors") return "runtime never imports numeric, domains, actors"
      return null
    case "src/protocol":
      if (!to.startsWith("pkg:") || to !== "pkg:effect") return to.startsWith("pkg:") && to !== "pkg:effect" ? "protocol imports Effect Schema only" : `protocol imports Effect Schema only (not ${to})`
      return null
    case "src/core":
    case "src/config":
      if (!to.startsWith("pkg:") && to !== "src/core") return `${from} is a base layer: it imports only src/core and packages`
      return null
    case "actors": {
      if (APP.has(to)) return "actors never import the app layer (cli, experiments, report)"
      if (to === "actors" && folderOf(e.from) !== folderOf(e.to) && !isActorEntry(e.to)) return "an actor imports another actor's internals (only its protocol.ts or its entry module index.ts)"
      return null
    }
    default:
      if (APP.has(from) && to === "src/numeric" && e.to !== "src/numeric/index.ts") return "the app layer never imports numeric internals (only src/numeric/index.ts)"
      if (to === "actors" && !isActorEntry(e.to)) return "outside actors/, an actor is reached through its entry module index.ts or its protocol.ts only"
      return null
  }
}

/**
 * Today's violations, each `from -> to` (folders) with the reason it exists. None: the last ones (the
 * orchestrator wiring the actors by their classes and behaviors) went when every actor folder got one entry
 * module (actors/<name>/index.ts) and the wiring (actors/orchestrator/Pipeline.ts) imported only those (issue #15).
 */
const KNOWN: Readonly<Record<string, string>> = {}

const violations = (): Map<string, Array<string>> => {
  const out = new Map<string, Array<string>>()
  for (const e of EDGES) {
    const why = violation(e)
    if (why === null) continue
    const key = `${folderOf(e.from)} -> ${e.to.startsWith("pkg:") ? e.to : folderOf(e.to)}`
    out.set(key, [...(out.get(key) ?? []), `${e.from} imports "${e.spec}": ${why}`])
  }
  return out
}

/** Cycles between folders (Tarjan's strongly connected components of size > 1). */
const folderCycles = (edges: ReadonlyArray<Edge>): Array<Array<string>> => {
  const graph = new Map<string, Set<string>>()
  for (const e of edges) {
    if (e.to.startsWith("pkg:")) continue
    const a = folderOf(e.from)
    const b = folderOf(e.to)
    if (a === b) continue
    graph.set(a, (graph.get(a) ?? new Set()).add(b))
    if (!graph.has(b)) graph.set(b, new Set())
  }
  let index = 0
  const idx = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: Array<string> = []
  const on = new Set<string>()
  const out: Array<Array<string>> = []
  const visit = (v: string): void => {
    idx.set(v, index)
    low.set(v, index++)
    stack.push(v)
    on.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!))
    }
    if (low.get(v) === idx.get(v)) {
      const scc: Array<string> = []
      let w: string
      do {
        w = stack.pop()!
        on.delete(w)
        scc.push(w)
      } while (w !== v)
      if (scc.length > 1) out.push(scc.sort())
    }
  }
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v)
  return out
}

/**
 * Known folder cycles (sorted members): none. The last one (actors/memory <-> actors/orchestrator <->
 * actors/teacher, through the orchestrator's port types) went when the ports and the actors' inboxes moved
 * to the per-actor protocols in src/protocol (issue #15).
 */
const KNOWN_CYCLES: ReadonlyArray<string> = []

describe("layer boundaries (ARCHITECTURE §8)", () => {
  it("the scanner sees the imports (a sanity check that cannot pass on an empty scan)", () => {
    expect(ALL_FILES.length).toBeGreaterThan(100)
    expect(EDGES.some((e) => e.from === "src/experiments/run.ts" && e.to === "src/runtime/ActorSystem.ts")).toBe(true)
    expect(EDGES.some((e) => e.from.startsWith("src/numeric/") && e.to === "pkg:@tensorflow/tfjs")).toBe(true)
  })

  it("the rules catch what they must", () => {
    expect(violation({ from: "src/numeric/x.ts", to: "pkg:effect", spec: "effect" })).not.toBeNull()
    expect(violation({ from: "src/domains/x.ts", to: "pkg:@tensorflow/tfjs", spec: "@tensorflow/tfjs" })).not.toBeNull()
    expect(violation({ from: "src/memory/x.ts", to: "actors/policy/Policy.ts", spec: "../../actors/policy/Policy.ts" })).not.toBeNull()
    expect(violation({ from: "src/runtime/x.ts", to: "src/numeric/index.ts", spec: "../numeric/index.ts" })).not.toBeNull()
    expect(violation({ from: "src/protocol/x.ts", to: "src/memory/types.ts", spec: "../memory/types.ts" })).not.toBeNull()
    expect(violation({ from: "actors/teacher/x.ts", to: "actors/policy/PolicyModel.ts", spec: "../policy/PolicyModel.ts" })).not.toBeNull()
    expect(violation({ from: "actors/teacher/x.ts", to: "actors/verifier/protocol.ts", spec: "../verifier/protocol.ts" })).toBeNull()
    expect(violation({ from: "actors/orchestrator/x.ts", to: "actors/policy/index.ts", spec: "../policy/index.ts" })).toBeNull()
    expect(violation({ from: "actors/orchestrator/x.ts", to: "actors/policy/Policy.ts", spec: "../policy/Policy.ts" })).not.toBeNull()
    expect(violation({ from: "actors/orchestrator/x.ts", to: "actors/memory/sub/index.ts", spec: "../memory/sub/index.ts" })).not.toBeNull()
    expect(violation({ from: "src/cli/x.ts", to: "src/numeric/model/forward.ts", spec: "../numeric/model/forward.ts" })).not.toBeNull()
    expect(violation({ from: "src/cli/x.ts", to: "src/numeric/index.ts", spec: "../numeric/index.ts" })).toBeNull()
    expect(folderCycles([
      { from: "src/a/x.ts", to: "src/b/y.ts", spec: "" }, { from: "src/b/y.ts", to: "src/c/z.ts", spec: "" }, { from: "src/c/z.ts", to: "src/a/x.ts", spec: "" }
    ])).toEqual([["src/a", "src/b", "src/c"]])
  })

  it("no import edge breaks §8 beyond the known ones, and every known one still exists", () => {
    const found = violations()
    const unexpected = [...found].filter(([key]) => KNOWN[key] === undefined).flatMap(([, lines]) => lines)
    expect(unexpected, "new edges that break ARCHITECTURE §8").toEqual([])
    const gone = Object.keys(KNOWN).filter((key) => !found.has(key))
    expect(gone, "known violations that no longer exist: delete them from KNOWN").toEqual([])
  })

  it("every actor folder has its one entry module (actors/<name>/index.ts), and the wiring imports only entries", () => {
    const folders = [...new Set(sources("actors").map(folderOf))]
    expect(folders.length).toBeGreaterThan(5)
    for (const f of folders) expect(ALL_FILES, `${f} has no index.ts`).toContain(`${f}/index.ts`)
    const wiring = EDGES.filter((e) => e.from === "actors/orchestrator/Pipeline.ts" && e.to.startsWith("actors/") && folderOf(e.to) !== "actors/orchestrator")
    expect(wiring.length).toBeGreaterThan(5)
    expect(wiring.filter((e) => !e.to.endsWith("/index.ts")).map((e) => e.spec)).toEqual([])
  })

  it("no folder imports itself through others (no folder cycles)", () => {
    const cycles = folderCycles(EDGES).map((c) => c.join(" <-> "))
    expect(cycles.filter((c) => !KNOWN_CYCLES.includes(c))).toEqual([])
    expect(KNOWN_CYCLES.filter((c) => !cycles.includes(c)), "known cycles that no longer exist").toEqual([])
  })
})
