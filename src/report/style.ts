/** The report page's stylesheet: a plain, print-friendly layout; plots in a responsive grid of fixed-height cells. */
export const STYLE = `
:root { color-scheme: light; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; background: #fafafa; }
header { padding: 16px 24px 8px; background: #fff; border-bottom: 1px solid #ddd; }
h1 { margin: 0 0 4px; font-size: 22px; }
h2 { margin: 0 0 6px; font-size: 18px; }
.summary { margin: 0 0 6px; color: #555; }
nav a { margin-right: 12px; color: #0b5cad; text-decoration: none; font-size: 13px; }
main { padding: 8px 24px 32px; }
section { margin: 18px 0 28px; }
.caption { max-width: 980px; color: #444; margin: 0 0 10px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(460px, 1fr)); gap: 14px; }
.plot { margin: 0; height: 320px; padding: 8px; background: #fff; border: 1px solid #e2e2e2; border-radius: 6px; position: relative; }
table { border-collapse: collapse; background: #fff; margin: 8px 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ddd; padding: 4px 10px; text-align: right; vertical-align: top; }
th { background: #f0f0f0; font-weight: 600; }
td:first-child, th:first-child { text-align: left; }
.seeds { color: #777; font-size: 12px; }
.notes { color: #777; font-size: 13px; }
details summary { cursor: pointer; color: #0b5cad; }
.paper-tables { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
`
