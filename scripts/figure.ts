/**
 * A report's chart as a PNG, for a README or a paper: opens REPORT.html in headless Chromium (Debian's
 * chromium through playwright-core, which downloads no browser), waits until every chart has rendered,
 * and screenshots the <figure> holding the canvas with the given id (ids are listed when one is wrong).
 *
 *   node scripts/figure.ts runs/study/report.html docs/figures/lag.png sweep-memory_lag-internalization
 *
 * A dev tool: it needs the dev dependency playwright-core and /usr/bin/chromium (`apt-get install chromium`).
 */
import { existsSync } from "node:fs"
import { resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { chromium } from "playwright-core"

const CHROMIUM = "/usr/bin/chromium"
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]

declare const window: { readonly __plotsRendered?: number }
declare const document: { querySelectorAll(selector: "canvas"): Iterable<{ readonly id: string }> }

const fail = (message: string): never => {
  console.error(`figure: ${message}`)
  process.exit(2)
}

const [html, out, id] = process.argv.slice(2)
if (html === undefined || out === undefined || id === undefined) fail("usage: node scripts/figure.ts REPORT.html OUT.png CANVAS_ID")
if (!existsSync(html!)) fail(`${html} does not exist`)
if (!existsSync(CHROMIUM)) fail(`${CHROMIUM} is missing: apt-get install -y chromium`)

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
try {
  const page = await browser.newPage({ viewport: { width: 900, height: 700 }, deviceScaleFactor: 2 })
  await page.goto(pathToFileURL(resolve(html!)).href)
  await page.waitForFunction(() => window.__plotsRendered !== undefined, null, { timeout: 60_000 })
  const ids = await page.evaluate(() => [...document.querySelectorAll("canvas")].map((c) => c.id))
  if (!ids.includes(id!)) fail(`no chart ${id} in ${html}; charts: ${ids.join(", ")}`)
  await page.locator(`figure:has(canvas[id="${id}"])`).screenshot({ path: out! })
  console.log(`figure: ${out}`)
} finally {
  await browser.close()
}
