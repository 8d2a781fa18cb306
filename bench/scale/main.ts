/**
 * The scale benchmark (`deno task bench:scale`): how the CLI's peak memory and rate change with
 * the number of inputs. It uploads generated CSVs of image URLs (`csv FILE --csv-type url
 * --input-type image --rps 0`) of 100k, 1M and (on request) 10M rows to the discard server of
 * bench/e2e (the client alone) and to the local API (a real server, whose own peak memory is
 * reported too), and prints, side by side, wall time, inputs/s and peak RSS with their ratios to
 * the smallest run of the same target. The CSVs are generated once and cached (default
 * `/tmp/upflow-scale`).
 *
 * ```sh
 * deno task bench:scale                                  # 100k and 1M rows, both targets
 * deno task bench:scale --rows 100000,1000000,10000000 --targets discard
 * deno task bench:scale --rows 100000 --targets local --rerun    # + a bare re-run, no journal
 * deno task bench:scale --rows 100000 --shards 1,2,4             # N shard processes at once
 * deno task bench:scale --images 5000                            # files, then a bare re-run
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeSmallPool, writeUrlCsv } from "../e2e/generate_data.ts";
import { runMeasured } from "../e2e/run_tool.ts";
import type { ProcessResult } from "../e2e/run_tool.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CLI = join(ROOT, "src/cli/main.ts");
const LOCAL_API = join(ROOT, "server/local/main.ts");
const DISCARD = join(ROOT, "bench/e2e/discard_server.ts");
const KEY = "bench-key";
const ENV = { CLARIFAI_PAT: KEY, CLARIFAI_USER_ID: "u", CLARIFAI_APP_ID: "a", NO_COLOR: "1" };

/** One measured run. */
export interface ScaleRow {
  /** Rows in the CSV. */
  rows: number;
  /** `discard` or `local`. */
  target: string;
  /** What was run: `upload`, `re-run (no journal)`, `N shards`. */
  kind: string;
  /** Wall time in seconds. */
  seconds: number;
  /** Inputs uploaded (or found present) per second of wall time. */
  inputsPerSecond: number;
  /** The CLI's peak RSS in MiB (the largest of the shard processes). */
  peakRssMiB: number;
  /** The local API's peak RSS in MiB, when it was the target. */
  serverPeakRssMiB?: number;
  /** The summary's counts. */
  counts: Record<string, unknown>;
  /** Exit code of the CLI. */
  exit: number;
  /** [seconds, inputs done, RSS MiB] samples of the CLI. */
  series?: [number, number, number][];
}

/** What one streamed, sampled run of the CLI did. */
interface Streamed {
  wallMs: number;
  peakRssMiB: number;
  code: number;
  timedOut: boolean;
  summary: Record<string, unknown>;
  /** Inputs done (uploaded, present or already uploaded) at the last progress event. */
  done: number;
  /** [seconds, inputs done, RSS MiB], about every 10 s. */
  series: [number, number, number][];
}

/**
 * Runs the CLI with `--json`, reading its progress events as they come and sampling its RSS
 * from /proc every second (VmHWM, the kernel's high-water mark, for the peak). At `timeoutS` it
 * is stopped with SIGTERM (it closes its journal) and the run counts as far as it got.
 */
async function runStreamed(
  args: string[],
  options: { env: Record<string, string>; cwd: string; timeoutS: number },
): Promise<Streamed> {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env: options.env,
    cwd: options.cwd,
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let peakKb = 0;
  let rssKb = 0;
  let done = 0;
  let summary: Record<string, unknown> = {};
  const series: [number, number, number][] = [];
  let lastPoint = -Infinity;
  const sample = () => {
    try {
      const status = Deno.readTextFileSync(`/proc/${child.pid}/status`);
      peakKb = Math.max(peakKb, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
      rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch { /* exited */ }
    const t = (performance.now() - started) / 1000;
    if (t - lastPoint >= 10) {
      lastPoint = t;
      series.push([Math.round(t), done, Math.round(rssKb / 1024)]);
    }
  };
  const sampler = setInterval(sample, 1000);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
  }, options.timeoutS * 1000);
  let pending = "";
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf("\n")) !== -1) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (!line.startsWith("{")) continue;
      try {
        const event = JSON.parse(line);
        if (event.type === "progress") {
          const c = event.counts;
          done = c.uploaded + (c.present ?? 0) + c.alreadyUploaded;
        } else if (event.type === "done") summary = event.summary;
      } catch { /* not an event */ }
    }
  }
  const { code } = await child.status;
  clearInterval(sampler);
  clearTimeout(timer);
  const wallMs = performance.now() - started;
  series.push([Math.round(wallMs / 1000), done, Math.round(rssKb / 1024)]);
  return { wallMs, peakRssMiB: peakKb / 1024, code, timedOut, summary, done, series };
}

function log(text: string) {
  const load = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  console.error(`[${new Date().toISOString().slice(11, 19)} load ${load}] ${text}`);
}

/** A server child process with its pid, so its peak RSS can be read from /proc. */
interface Child {
  base: string;
  pid: number;
  /** VmHWM of the process, in MiB. */
  peakRssMiB(): number;
  stop(): Promise<void>;
}

async function start(script: string, args: string[], ready: RegExp): Promise<Child> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, ...args],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let port: string | undefined;
  while (port === undefined) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${script} exited: ${text}`);
    text += value;
    port = ready.exec(text)?.[1];
  }
  const drained = (async () => {
    try {
      for (;;) if ((await reader.read()).done) break;
    } catch { /* closed */ }
  })();
  return {
    base: `http://127.0.0.1:${port}`,
    pid: child.pid,
    peakRssMiB() {
      const status = Deno.readTextFileSync(`/proc/${child.pid}/status`);
      const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]);
      return kb / 1024;
    },
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
      await drained;
    },
  };
}

async function csvFor(dir: string, rows: number): Promise<string> {
  const path = join(dir, `urls-${rows}.csv`);
  const done = `${path}.done`;
  try {
    await Deno.stat(done);
    return path;
  } catch { /* generate */ }
  log(`generating ${rows.toLocaleString("en-US")} rows → ${path}`);
  await writeUrlCsv(path, rows);
  await Deno.writeTextFile(done, "");
  return path;
}

function summaryOf(result: ProcessResult): Record<string, unknown> {
  const lines = result.stdout.trim().split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const event = JSON.parse(lines[i]);
      if (event.type === "done") return event.summary;
    } catch { /* not JSON */ }
  }
  return { error: result.stderrTail.slice(-400) };
}

function cliArgs(csv: string, base: string, journal: string, extra: string[] = []): string[] {
  return [
    "run",
    "-A",
    CLI,
    "csv",
    csv,
    "--csv-type",
    "url",
    "--input-type",
    "image",
    "--rps",
    "0",
    "--base",
    base,
    "--journal",
    journal,
    "--json",
    ...extra,
  ];
}

function counted(summary: Record<string, unknown>): number {
  return Number(summary.uploaded ?? 0) + Number(summary.present ?? 0) +
    Number(summary.alreadyUploaded ?? 0);
}

async function target(kind: string, work: string): Promise<Child & { dir?: string }> {
  if (kind === "discard") {
    return await start(DISCARD, ["--port", "0"], /listening on (\d+)/);
  }
  const dir = join(work, `api-${crypto.randomUUID().slice(0, 8)}`);
  await Deno.mkdir(dir, { recursive: true });
  const api = await start(
    LOCAL_API,
    ["--port", "0", "--data", dir, "--key", KEY, "--user", "u", "--app", "a"],
    /listening on http:\/\/127\.0\.0\.1:(\d+)/,
  );
  return {
    ...api,
    dir,
    stop: async () => {
      await api.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

async function runOnce(
  rows: number,
  csv: string,
  targetKind: string,
  work: string,
  options: { rerun: boolean; timeoutS: number },
): Promise<ScaleRow[]> {
  const server = await target(targetKind, work);
  const out: ScaleRow[] = [];
  try {
    const journal = join(work, `journal-${crypto.randomUUID().slice(0, 8)}.ndjson`);
    log(`${rows.toLocaleString("en-US")} rows → ${targetKind}`);
    const result = await runStreamed(cliArgs(csv, server.base, journal), {
      env: ENV,
      cwd: work,
      timeoutS: options.timeoutS,
    });
    const row: ScaleRow = {
      rows,
      target: targetKind,
      kind: result.timedOut ? "upload (stopped at the time limit)" : "upload",
      seconds: result.wallMs / 1000,
      inputsPerSecond: result.done / (result.wallMs / 1000),
      peakRssMiB: result.peakRssMiB,
      ...(targetKind === "local" ? { serverPeakRssMiB: server.peakRssMiB() } : {}),
      counts: { ...pick(result.summary), done: result.done },
      exit: result.code,
      series: result.series,
    };
    show(row);
    out.push(row);
    await removeJournal(journal);
    if (options.rerun && targetKind === "local") {
      // The same upload again from a fresh working folder: no journal, the server decides.
      const fresh = join(work, `journal-${crypto.randomUUID().slice(0, 8)}.ndjson`);
      const again = await runStreamed(cliArgs(csv, server.base, fresh), {
        env: ENV,
        cwd: work,
        timeoutS: options.timeoutS,
      });
      const r: ScaleRow = {
        rows,
        target: targetKind,
        kind: "re-run, no journal",
        seconds: again.wallMs / 1000,
        inputsPerSecond: again.done / (again.wallMs / 1000),
        peakRssMiB: again.peakRssMiB,
        serverPeakRssMiB: server.peakRssMiB(),
        counts: {
          ...pick(again.summary),
          bytes: again.summary.bytes,
          batches: again.summary.batches,
        },
        exit: again.code,
      };
      show(r);
      out.push(r);
      await removeJournal(fresh);
    }
  } finally {
    await server.stop();
  }
  return out;
}

/**
 * A folder of small images (30 KB) uploaded to the local API, then the same upload again with no
 * journal: what a bare re-run costs when the first run sent media bytes.
 */
async function runImages(count: number, dataDir: string, work: string, timeoutS: number) {
  const dir = join(dataDir, `images-${count}`);
  try {
    await Deno.stat(`${dir}.done`);
  } catch {
    log(`generating ${count} images of 30 KB → ${dir}`);
    await writeSmallPool(join(dir, "cats"), count, 30_000);
    await Deno.writeTextFile(`${dir}.done`, "");
  }
  const server = await target("local", work);
  const out: ScaleRow[] = [];
  try {
    for (const kind of ["upload", "re-run, no journal"]) {
      log(`${count} images → local: ${kind}`);
      const journal = join(work, `journal-${crypto.randomUUID().slice(0, 8)}.ndjson`);
      const args = [
        "run",
        "-A",
        CLI,
        "folder",
        dir,
        "--recursive",
        "--rps",
        "0",
        "--base",
        server.base,
        "--journal",
        journal,
        "--json",
      ];
      const r = await runStreamed(args, { env: ENV, cwd: work, timeoutS });
      const row: ScaleRow = {
        rows: count,
        target: "local (30 KB images)",
        kind,
        seconds: r.wallMs / 1000,
        inputsPerSecond: r.done / (r.wallMs / 1000),
        peakRssMiB: r.peakRssMiB,
        serverPeakRssMiB: server.peakRssMiB(),
        counts: { ...pick(r.summary), bytes: r.summary.bytes, batches: r.summary.batches },
        exit: r.code,
      };
      show(row);
      out.push(row);
      await removeJournal(journal);
    }
  } finally {
    await server.stop();
  }
  return out;
}

async function runShards(
  rows: number,
  csv: string,
  shards: number,
  work: string,
  timeoutS: number,
): Promise<ScaleRow> {
  const server = await target("local", work);
  try {
    log(`${rows.toLocaleString("en-US")} rows → local, ${shards} shard(s)`);
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: shards }, (_, k) => {
        const journal = join(work, `journal-${crypto.randomUUID().slice(0, 8)}.ndjson`);
        return runMeasured(
          Deno.execPath(),
          cliArgs(csv, server.base, journal, shards > 1 ? ["--shard", `${k}/${shards}`] : []),
          { env: ENV, cwd: work, timeoutS },
        ).finally(() => removeJournal(journal));
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const summaries = results.map(summaryOf);
    const total = summaries.reduce((sum, s) => sum + counted(s), 0);
    const row: ScaleRow = {
      rows,
      target: "local",
      kind: `${shards} shard${shards === 1 ? "" : "s"}`,
      seconds,
      inputsPerSecond: total / seconds,
      peakRssMiB: Math.max(...results.map((r) => r.peakRssMiB)),
      serverPeakRssMiB: server.peakRssMiB(),
      counts: {
        uploaded: summaries.reduce((sum, s) => sum + Number(s.uploaded ?? 0), 0),
        failed: summaries.reduce((sum, s) => sum + Number(s.failed ?? 0), 0),
      },
      exit: Math.max(...results.map((r) => r.code)),
    };
    show(row);
    return row;
  } finally {
    await server.stop();
  }
}

async function removeJournal(path: string) {
  for (const suffix of ["", ".index.sqlite", ".index.sqlite-wal", ".index.sqlite-shm", ".lock"]) {
    await Deno.remove(path + suffix, { recursive: true }).catch(() => {});
  }
}

function pick(summary: Record<string, unknown>): Record<string, unknown> {
  const keys = ["uploaded", "present", "conflicts", "failed", "rejected", "alreadyUploaded"];
  const out: Record<string, unknown> = {};
  for (const k of keys) if (summary[k] !== undefined) out[k] = summary[k];
  if (summary.fatal) out.fatal = summary.fatal;
  if (summary.error) out.error = summary.error;
  return out;
}

function show(r: ScaleRow) {
  log(
    `  ${r.kind}: ${r.seconds.toFixed(1)} s, ${r.inputsPerSecond.toFixed(0)} inputs/s, ` +
      `CLI peak ${r.peakRssMiB.toFixed(0)} MiB` +
      (r.serverPeakRssMiB ? `, server peak ${r.serverPeakRssMiB.toFixed(0)} MiB` : "") +
      ` ${JSON.stringify(r.counts)} exit ${r.exit}`,
  );
}

/**
 * The results as a Markdown table, each run's memory and rate as a ratio to the smallest run of
 * the same target and kind.
 *
 * @param rows The measured runs.
 * @returns The table.
 */
export function table(rows: ScaleRow[]): string {
  const lines = [
    "| rows | target | run | time (s) | inputs/s | CLI peak RSS (MiB) | × smallest | rate × smallest | server peak RSS (MiB) | counts |",
    "|---:|---|---|---:|---:|---:|---:|---:|---:|---|",
  ];
  for (const r of rows) {
    const group = (kind: string) => kind.startsWith("upload") ? "upload" : kind;
    const base = rows.find((b) => b.target === r.target && group(b.kind) === group(r.kind));
    lines.push(
      `| ${r.rows.toLocaleString("en-US")} | ${r.target} | ${r.kind} | ${r.seconds.toFixed(1)} | ${
        r.inputsPerSecond.toFixed(0)
      } | ${r.peakRssMiB.toFixed(0)} | ${(r.peakRssMiB / base!.peakRssMiB).toFixed(2)} | ${
        (r.inputsPerSecond / base!.inputsPerSecond).toFixed(2)
      } | ${r.serverPeakRssMiB?.toFixed(0) ?? ""} | ${JSON.stringify(r.counts)} |`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      rows: { type: "string", default: "100000,1000000" },
      targets: { type: "string", default: "discard,local" },
      shards: { type: "string" },
      images: { type: "string" },
      rerun: { type: "boolean", default: false },
      data: { type: "string", default: "/tmp/upflow-scale" },
      out: { type: "string" },
      timeout: { type: "string", default: "7200" },
    },
  });
  const sizes = values.rows.split(",").map(Number);
  await Deno.mkdir(values.data, { recursive: true });
  const work = await Deno.makeTempDir({ dir: values.data, prefix: "run-" });
  const rows: ScaleRow[] = [];
  log(`Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cores`);
  try {
    if (values.images) {
      rows.push(
        ...await runImages(Number(values.images), values.data, work, Number(values.timeout)),
      );
    }
    for (const n of values.images ? [] : sizes) {
      const csv = await csvFor(values.data, n);
      if (values.shards) {
        for (const s of values.shards.split(",").map(Number)) {
          rows.push(await runShards(n, csv, s, work, Number(values.timeout)));
        }
        continue;
      }
      for (const t of values.targets.split(",")) {
        rows.push(
          ...await runOnce(n, csv, t, work, {
            rerun: values.rerun,
            timeoutS: Number(values.timeout),
          }),
        );
      }
    }
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
  rows.sort((a, b) =>
    a.target.localeCompare(b.target) || a.kind.localeCompare(b.kind) || a.rows - b.rows
  );
  console.log(table(rows));
  if (values.out) await Deno.writeTextFile(values.out, JSON.stringify(rows, null, 2) + "\n");
}
