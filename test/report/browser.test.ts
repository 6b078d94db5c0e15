/**
 * End to end: write a report for synthetic runs, open it in headless Chromium from a file:// URL, and check
 * that it runs clean (no page or console errors, no network), that every plot rendered and is not blank,
 * and that a full-page screenshot is a real picture. Uses Debian's chromium through playwright-core,
 * which downloads no browser; without /usr/bin/chromium the test fails saying how to install it.
 */
import { existsSync } from "node:fs"
import { mkdtemp, readFile, rm, stat } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { chromium } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { writeReport } from "../../src/report/index.ts"
import { syntheticRun, syntheticRuns, writeSweep } from "./synthetic.ts"

// The page-side callbacks below run in the browser; the project compiles without the DOM lib, so
// declare the little of it they touch.
interface PageCanvas {
  readonly id: string
  readonly width: number
  readonly height: number
  getAttribute(name: string): string | null
  getContext(kind: "2d"): { getImageData(x: number, y: number, w: number, h: number): { readonly data: Uint8ClampedArray } } | null
}
declare const window: { readonly __plotsRendered?: number }
declare const document: {
  readonly body: { readonly dataset: Readonly<Record<string, string | undefined>> }
  querySelectorAll(selector: "canvas"): Iterable<PageCanvas>
}

const CHROMIUM = "/usr/bin/chromium"
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"]

let root = ""
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "pmdsim-report-"))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

/** The browser's path, or an error saying how to install it: this test must fail, never skip, without it. */
const requireChromium = (path: string): string => {
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: the report's browser test drives Debian's chromium through playwright-core. ` +
      "Install it with `apt-get install -y chromium` (CI does so before running the tests).")
  }
  return path
}

interface PageCheck {
  readonly rendered: unknown
  readonly expected: number
  readonly canvases: ReadonlyArray<{ readonly id: string; readonly plot: string | null; readonly inked: number; readonly colors: number }>
}

/** Load a report page, wait for its charts, and measure each canvas (share of painted pixels, distinct colours). */
const openReport = async (html: string, screenshot: string): Promise<{ check: PageCheck; problems: Array<string> }> => {
  const browser = await chromium.launch({ executablePath: requireChromium(CHROMIUM), args: ARGS })
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    const problems: Array<string> = []
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`))
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`)
    })
    page.on("request", (r) => {
      if (!r.url().startsWith("file:")) problems.push(`network request: ${r.url()}`)
    })
    await page.goto(pathToFileURL(html).href)
    await page.waitForFunction(() => window.__plotsRendered !== undefined, null, { timeout: 30_000 })
    const check = await page.evaluate((): PageCheck => ({
      rendered: window.__plotsRendered,
      expected: Number(document.body.dataset["plots"]),
      canvases: [...document.querySelectorAll("canvas")].map((c) => {
        const data = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data
        let inked = 0
        const colors = new Set<number>()
        for (let i = 0; i < data.length; i += 4) {
          if (data[i + 3]! > 0) {
            inked++
            colors.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!)
          }
        }
        return { id: c.id, plot: c.getAttribute("data-plot"), inked: inked / (c.width * c.height), colors: colors.size }
      })
    }))
    await page.screenshot({ path: screenshot, fullPage: true })
    return { check, problems }
  } finally {
    await browser.close()
  }
}

/** PNG signature, then the IHDR chunk's width and height. */
const pngSize = (bytes: Buffer): { width: number; height: number } => {
  expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  expect(bytes.subarray(12, 16).toString("latin1")).toBe("IHDR")
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) }
}

const datasets = {
  methods: () => syntheticRuns(["grpo", "sdpo", "pmd"], [1, 2], 12, 3),
  lagSweep: () => [
    ...[0, 2, 4].flatMap((lag) => [1, 2].map((seed) => syntheticRun({ method: "pmd", seed, steps: 12, evalEvery: 3, knobs: { "memory.lag": lag } }))),
    ...syntheticRuns(["sdpo"], [1, 2], 12, 3)
  ]
}

describe("report in a browser", () => {
  it("fails with install instructions when chromium is missing", () => {
    expect(() => requireChromium("/nonexistent/chromium")).toThrow(
      "/nonexistent/chromium is missing: the report's browser test drives Debian's chromium through playwright-core. Install it with `apt-get install -y chromium`"
    )
  })

  for (const [name, make] of Object.entries(datasets)) {
    it(`renders every plot, without errors, for ${name}`, async () => {
      const dir = join(root, name)
      const runs = make()
      await writeSweep(dir, runs)
      const out = await writeReport(dir)
      expect(out.html).toBe(join(dir, "report.html"))
      expect(out.csv).toEqual([join(dir, "metrics-train.csv"), join(dir, "metrics-eval.csv")])
      const trainLines = (await readFile(out.csv[0]!, "utf8")).split("\r\n").filter((l) => l !== "")
      expect(trainLines).toHaveLength(1 + runs.length * 12)

      const shot = join(root, `${name}.png`)
      const { check, problems } = await openReport(out.html, shot)
      expect(problems).toEqual([])
      expect(check.canvases.length).toBeGreaterThanOrEqual(15)
      expect(check.expected).toBe(check.canvases.length)
      expect(check.rendered).toBe(check.canvases.length)
      for (const c of check.canvases) {
        expect(c.plot, c.id).toBeTruthy()
        // axes, labels and at least one series: a blank or failed chart paints (almost) nothing
        expect(c.inked, `${c.id} painted share`).toBeGreaterThan(0.01)
        expect(c.colors, `${c.id} colours`).toBeGreaterThanOrEqual(3)
      }
      const png = await readFile(shot)
      const size = pngSize(png)
      expect(size.width).toBe(1280)
      expect(size.height).toBeGreaterThan(2000)
      expect((await stat(shot)).size).toBeGreaterThan(100_000)
    })
  }
})
