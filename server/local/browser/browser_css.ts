/**
 * The stylesheet of the local API's browser, served at `/local/browser.css`.
 *
 * @module
 */

/** The stylesheet: plain CSS, nothing external. */
export const BROWSER_CSS =
  `:root { --fg: #1d2430; --muted: #667085; --line: #d9dee7; --bg: #f6f7f9; --accent: #2563eb;
  --box: #ff3b30; --poly: #10b981; --point: #f59e0b; font-family: system-ui, sans-serif; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg); font-size: 14px; }
header { display: flex; gap: 1rem; align-items: baseline; padding: .6rem 1.2rem; background: #111827; color: #fff; }
header h1 { font-size: 1.1rem; margin: 0; }
header a { color: #c7d2fe; }
main { max-width: 1200px; margin: 1rem auto; padding: 0 1rem; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1rem; margin-bottom: 1rem; }
h2 { font-size: 1rem; margin: 0 0 .6rem; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
.muted { color: var(--muted); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); }
th { color: var(--muted); font-weight: 600; font-size: .85rem; }
.chips { display: flex; gap: .4rem; flex-wrap: wrap; margin: .3rem 0; }
.chip { display: inline-block; padding: .1rem .5rem; border-radius: 10px; background: #eef2ff; color: #3730a3; font-size: .8rem; }
.chip.region { background: #fee2e2; color: #991b1b; }
a.chip.on { background: var(--accent); color: #fff; }
.status-failed { background: #fde2df; color: #c0362c; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: .8rem; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: .4rem; background: #fff; }
.card .id { font-weight: 600; overflow-wrap: anywhere; }
.media { position: relative; line-height: 0; background: #e5e7eb; }
.media img { display: block; width: 100%; height: auto; }
.media svg.overlay { position: absolute; left: 0; top: 0; width: 100%; height: 100%; }
.placeholder { line-height: 1.3; padding: 1.2rem .6rem; color: var(--muted); text-align: center; overflow-wrap: anywhere; }
.text-snippet { line-height: 1.3; padding: .5rem; font-size: .85rem; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 9em; overflow: hidden; background: #f9fafb; }
svg .box { fill: none; stroke: var(--box); stroke-width: 2; }
svg .polygon { fill: rgba(16, 185, 129, .18); stroke: var(--poly); stroke-width: 2; }
svg .point { fill: var(--point); stroke: #fff; stroke-width: 1; }
svg .frame-bg { fill: #1f2937; }
svg .timeline-bg { fill: #e5e7eb; }
svg .frame-mark { fill: var(--accent); }
svg .geo-bg { fill: #dbeafe; stroke: #93c5fd; }
svg .geo-line { stroke: #bfdbfe; stroke-width: .5; }
svg .geo-dot { fill: #c0362c; }
.detail { display: grid; grid-template-columns: minmax(280px, 560px) 1fr; gap: 1rem; align-items: start; }
.frames { display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: .6rem; }
pre { background: #f9fafb; padding: .6rem; overflow: auto; }
.pager { display: flex; gap: 1rem; align-items: center; margin-top: .8rem; }
`;
