/**
 * The stylesheet of the service's page, served at `/assets/upflow.css`.
 *
 * @module
 */

/** The stylesheet: plain CSS, no external fonts or images. */
export const PAGE_CSS = `:root { --fg: #1d2430; --muted: #667085; --line: #d9dee7; --bg: #f6f7f9;
  --ok: #1f8a4c; --bad: #c0362c; --run: #2563eb; --warn: #b7791f; font-family: system-ui, sans-serif; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg); font-size: 14px; }
header { display: flex; align-items: center; gap: 1rem; padding: .6rem 1.2rem; background: #111827; color: #fff; }
header h1 { font-size: 1.1rem; margin: 0; }
header .muted { color: #aab2c0; }
main, #login { max-width: 1100px; margin: 1rem auto; padding: 0 1rem; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1rem; margin-bottom: 1rem; }
h2 { font-size: 1rem; margin: 0 0 .6rem; }
.muted { color: var(--muted); }
button { font: inherit; padding: .35rem .8rem; border: 1px solid var(--line); border-radius: 6px; background: #fff; cursor: pointer; }
button.primary { background: var(--run); color: #fff; border-color: var(--run); }
button:disabled { opacity: .45; cursor: default; }
input[type=number] { width: 6rem; }
#dataset { width: 10rem; }
input[type=text], input[type=password], input[type=number] { font: inherit; padding: .35rem .5rem; border: 1px solid var(--line); border-radius: 6px; }
.drop { border: 2px dashed #9aa5b5; border-radius: 8px; padding: 1.6rem; text-align: center; color: var(--muted); }
.drop.over { border-color: var(--run); background: #eef4ff; color: var(--fg); }
.drop label { color: var(--run); cursor: pointer; text-decoration: underline; }
.drop input[type=file] { display: none; }
.options { display: flex; gap: 1rem; align-items: center; margin-top: .6rem; flex-wrap: wrap; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: middle; }
th { font-weight: 600; color: var(--muted); font-size: .85rem; }
tr.job { cursor: pointer; }
tr.job:hover, tr.job.selected { background: #f1f5fd; }
.bar { width: 160px; height: 10px; background: #e7eaf0; border-radius: 5px; overflow: hidden; display: inline-flex; vertical-align: middle; }
.bar > span { display: block; height: 100%; width: 0; background: var(--run); transition: width .2s; }
.state-completed .bar > .ok, .state-completed_with_failures .bar > .ok { background: var(--ok); }
.state-cancelled .bar > .ok, .state-interrupted .bar > .ok { background: var(--warn); }
.bar > .fail { background: var(--bad); }
.badge { display: inline-block; padding: .05rem .45rem; border-radius: 9px; font-size: .8rem; background: #e7eaf0; }
.badge.running { background: #dbe7ff; color: var(--run); }
.badge.completed { background: #dcf3e5; color: var(--ok); }
.badge.failed, .badge.interrupted { background: #fde2df; color: var(--bad); }
.badge.completed_with_failures { background: #fdf1d8; color: var(--warn); }
.badge.cancelled { background: #fdf1d8; color: var(--warn); }
.num { font-variant-numeric: tabular-nums; }
.bad { color: var(--bad); }
.counts { display: flex; gap: 1.4rem; flex-wrap: wrap; margin: .4rem 0 .8rem; }
.counts b { display: block; font-size: 1.2rem; }
.actions { display: flex; gap: .5rem; margin: .6rem 0; }
#login-error, #upload-status.error { color: var(--bad); }
td.reason { max-width: 420px; }
`;
