/**
 * Runs the upflow CLI in this process while sampling `Deno.memoryUsage()` every 20 ms, and prints
 * the peaks to stderr when it ends: the resident set, the V8 heap (used and total) and the
 * memory held outside the heap by `ArrayBuffer`s (`external`: file contents, request chunks). It
 * tells where a peak RSS goes; `/usr/bin/time` gives the exact peak.
 *
 * ```sh
 * deno run -A bench/e2e/mem_probe.ts folder DIR --dataset d --base http://127.0.0.1:PORT ...
 * ```
 *
 * @module
 */
import { main } from "../../src/cli/main.ts";

const MIB = 1024 * 1024;
const peak = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, rssMinusHeapAndExternal: 0 };
const atPeakRss = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0 };
// PROBE_GC=1 (with --v8-flags=--expose-gc): a full collection before each sample, to tell
// garbage not yet collected from memory still referenced.
const collect = Deno.env.get("PROBE_GC") === "1"
  ? (globalThis as { gc?: () => void }).gc
  : undefined;
const sample = () => {
  collect?.();
  const m = Deno.memoryUsage();
  if (m.rss > peak.rss) Object.assign(atPeakRss, m);
  peak.rss = Math.max(peak.rss, m.rss);
  peak.heapTotal = Math.max(peak.heapTotal, m.heapTotal);
  peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
  peak.external = Math.max(peak.external, m.external);
  peak.rssMinusHeapAndExternal = Math.max(
    peak.rssMinusHeapAndExternal,
    m.rss - m.heapTotal - m.external,
  );
};
const timer = setInterval(sample, 20);
const code = await main(Deno.args);
clearInterval(timer);
sample();
const mib = (o: Record<string, number>) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v / MIB)]));
console.error(JSON.stringify({ peakMiB: mib(peak), atPeakRssMiB: mib(atPeakRss) }));
Deno.exit(code);
