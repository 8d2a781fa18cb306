/**
 * Runs the upflow CLI in this process while sampling `Deno.memoryUsage()` every 20 ms, and prints
 * the peaks to stderr when it ends: the resident set, the V8 heap (used and total), the memory
 * held outside the heap by `ArrayBuffer`s (`external`: file contents, request chunks), and the
 * resident set's anonymous and file-backed parts (`/proc/self/status`, Linux: the runtime's own
 * code is file-backed; what the program allocates is anonymous). It tells where a peak RSS goes;
 * `/usr/bin/time` gives the exact peak.
 *
 * ```sh
 * deno run -A bench/e2e/mem_probe.ts folder DIR --dataset d --base http://127.0.0.1:PORT ...
 * ```
 *
 * `PROBE_TRACE=FILE` also writes every sample (milliseconds, then MiB) to FILE as CSV.
 *
 * @module
 */
import { main } from "../../src/cli/main.ts";

const MIB = 1024 * 1024;
type Sample = {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  rssAnon: number;
  rssFile: number;
};
const peak: Sample & { rssMinusHeapAndExternal: number } = {
  rss: 0,
  heapTotal: 0,
  heapUsed: 0,
  external: 0,
  rssAnon: 0,
  rssFile: 0,
  rssMinusHeapAndExternal: 0,
};
const atPeakRss: Sample = {
  rss: 0,
  heapTotal: 0,
  heapUsed: 0,
  external: 0,
  rssAnon: 0,
  rssFile: 0,
};
// PROBE_GC=1 (with --v8-flags=--expose-gc): a full collection before each sample, to tell
// garbage not yet collected from memory still referenced.
const collect = Deno.env.get("PROBE_GC") === "1"
  ? (globalThis as { gc?: () => void }).gc
  : undefined;
const tracePath = Deno.env.get("PROBE_TRACE");
const trace: string[] = ["ms,rss,heapTotal,external,rssAnon,rssFile"];
const started = performance.now();
const statusKiB = (text: string, key: string) =>
  Number(new RegExp(`${key}:\\s+(\\d+)`).exec(text)?.[1] ?? 0) * 1024;
const sample = () => {
  collect?.();
  const m = Deno.memoryUsage();
  let status = "";
  try {
    status = Deno.readTextFileSync("/proc/self/status");
  } catch { /* not Linux */ }
  const s: Sample = {
    rss: m.rss,
    heapTotal: m.heapTotal,
    heapUsed: m.heapUsed,
    external: m.external,
    rssAnon: statusKiB(status, "RssAnon"),
    rssFile: statusKiB(status, "RssFile"),
  };
  if (s.rss > peak.rss) Object.assign(atPeakRss, s);
  for (const k of Object.keys(s) as (keyof Sample)[]) peak[k] = Math.max(peak[k], s[k]);
  peak.rssMinusHeapAndExternal = Math.max(
    peak.rssMinusHeapAndExternal,
    m.rss - m.heapTotal - m.external,
  );
  if (tracePath) {
    const mib = (v: number) => (v / MIB).toFixed(1);
    trace.push(
      [
        (performance.now() - started).toFixed(0),
        mib(s.rss),
        mib(s.heapTotal),
        mib(s.external),
        mib(s.rssAnon),
        mib(s.rssFile),
      ].join(","),
    );
  }
};
const timer = setInterval(sample, 20);
const code = await main(Deno.args);
clearInterval(timer);
sample();
if (tracePath) Deno.writeTextFileSync(tracePath, trace.join("\n") + "\n");
const mib = (o: Record<string, number>) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v / MIB)]));
console.error(JSON.stringify({ peakMiB: mib(peak), atPeakRssMiB: mib(atPeakRss) }));
Deno.exit(code);
