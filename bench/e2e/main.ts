/**
 * The end-to-end benchmark: upflow's CLI against the official `clarifai-nodejs` SDK and against
 * the transport limit, on generated data, with the local API as a separate process; then growth
 * runs (10k vs 100k small inputs, 1 GB vs 4 GB of large files). Writes the results between the
 * `e2e` markers of BENCHMARKS.md and draws `bench/e2e/chart.svg`.
 *
 * ```sh
 * deno run -A bench/e2e/main.ts            # full run (≈ 20 minutes on 2 cores)
 * deno run -A bench/e2e/main.ts --quick    # tiny sizes (≈ 1 minute), writes nothing
 * ```
 *
 * Options: `--quick`, `--keep` (keep the generated data), `--data DIR` (where to generate;
 * default a temporary folder), `--out FILE` (default BENCHMARKS.md; none with `--quick`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  largeName,
  linkSet,
  smallName,
  writeLargePool,
  writeSmallPool,
  writeUrlCsv,
} from "./generate_data.ts";
import {
  countInputs,
  type ProcessResult,
  runMeasured,
  type Server,
  startServer,
} from "./run_tool.ts";
import { renderChart } from "./chart.ts";
import { DEFAULT_MAX_BATCH_BYTES } from "../../src/pipeline/batch_stream.ts";
import { renderReport, type Report, type Row } from "./report.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const LOCAL_API = join(ROOT, "server/local/main.ts");
const DISCARD = join(ROOT, "bench/e2e/discard_server.ts");
const CLI = join(ROOT, "src/cli/main.ts");
const SDK = join(ROOT, "bench/e2e/sdk_runner.ts");
/** Tests and benchmarks pin their own packages in dev.lock, apart from what upflow runs on. */
const DEV_LOCK = join(ROOT, "dev.lock");
const LIMIT = join(ROOT, "bench/e2e/limit_client.ts");
const KEY = "bench-key";
const DENO = Deno.execPath();

/** Sizes and time limits of a run. */
interface Plan {
  small: number;
  smallBytes: number;
  large: number;
  largeBytes: number;
  csvRows: number;
  growthSmall: [number, number];
  growthLarge: [number, number];
  /** Images of ~19 MB (under Clarifai's 20 MB image limit), for peak memory. */
  bigImages: number;
  bigImageBytes: number;
  /** Small images of the WAN case (defaults, local API 80 ms away, and without the latency). */
  wan: number;
  /** Timeouts in seconds per dataset and tool. */
  timeout: { upflow: number; sdkSmall: number; sdkLarge: number; sdkCsv: number; limit: number };
}

const FULL: Plan = {
  small: 20_000,
  smallBytes: 30_000,
  large: 40,
  largeBytes: 50_000_000,
  csvRows: 1_000_000,
  growthSmall: [10_000, 100_000],
  growthLarge: [20, 80],
  bigImages: 10,
  bigImageBytes: 19_000_000,
  wan: 800,
  timeout: { upflow: 600, sdkSmall: 240, sdkLarge: 120, sdkCsv: 60, limit: 300 },
};

const QUICK: Plan = {
  small: 400,
  smallBytes: 30_000,
  large: 4,
  largeBytes: 10_000_000,
  csvRows: 20_000,
  growthSmall: [200, 2_000],
  growthLarge: [2, 8],
  bigImages: 3,
  bigImageBytes: 5_000_000,
  wan: 100,
  timeout: { upflow: 120, sdkSmall: 60, sdkLarge: 60, sdkCsv: 30, limit: 60 },
};

function log(text: string): void {
  const load = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
  console.error(`[${new Date().toISOString().slice(11, 19)} load ${load}] ${text}`);
}

function loadAverage(): string {
  return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
}

async function freshLocalApi(
  tmp: string,
  name: string,
  faults?: string,
): Promise<Server & { dir: string }> {
  const dir = join(tmp, `api-${name}`);
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });
  const server = await startServer(
    LOCAL_API,
    [
      "--port",
      "0",
      "--data",
      dir,
      "--key",
      KEY,
      "--user",
      "u",
      "--app",
      "a",
      ...(faults ? ["--faults", faults] : []),
    ],
    /listening on http:\/\/127\.0\.0\.1:(\d+)/,
  );
  return {
    ...server,
    dir,
    stop: async () => {
      await server.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

const ENV = { CLARIFAI_PAT: KEY, CLARIFAI_USER_ID: "u", CLARIFAI_APP_ID: "a", NO_COLOR: "1" };

interface Dataset {
  name: "small" | "large" | "csv" | "bigimages";
  /** The rows' dataset key, when not `name` (the WAN case's small images). */
  key?: string;
  label: string;
  path: string;
  inputs: number;
  bytes: number;
}

/** The CLI's arguments; `defaults` leaves the rate limit at its default (15 requests/s). */
function upflowArgs(
  dataset: Dataset,
  base: string,
  journal: string,
  wait: boolean,
  defaults = false,
): string[] {
  const common = [
    "--dataset",
    "demo",
    "--create-dataset",
    "--base",
    base,
    ...(defaults ? [] : ["--rps", "0"]),
    "--journal",
    journal,
    "--json",
    ...(wait ? ["--wait"] : []),
  ];
  return dataset.name === "csv"
    ? [
      "run",
      "-A",
      CLI,
      "csv",
      dataset.path,
      "--input-type",
      "image",
      "--csv-type",
      "url",
      ...common,
    ]
    : ["run", "-A", CLI, "folder", dataset.path, "--recursive", "--labels", ...common];
}

function summaryOf(result: ProcessResult): Record<string, unknown> | undefined {
  const lines = result.stdout.trim().split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const event = JSON.parse(lines[i]);
      if (event.type === "done") return event.summary;
    } catch { /* not JSON */ }
  }
  return undefined;
}

function row(
  dataset: Dataset,
  tool: string,
  target: string,
  result: ProcessResult,
  inputs: number,
  bytes: number,
  note = "",
  seconds?: number,
): Row {
  const s = seconds ?? result.wallMs / 1000;
  return {
    dataset: dataset.label,
    datasetKey: dataset.key ?? dataset.name,
    tool,
    target,
    inputs,
    seconds: s,
    inputsPerSecond: inputs / s,
    mbPerSecond: bytes / 1e6 / s,
    peakRssMiB: result.peakRssMiB,
    note: [
      result.timedOut ? `stopped by the ${Math.round(result.wallMs / 1000)} s timeout` : "",
      !result.timedOut && result.code !== 0 ? `exit ${result.code}` : "",
      note,
    ].filter(Boolean).join("; "),
  };
}

/** How the CLI runs against the local API: with `--wait` and `--rps 0` unless told. */
interface UpflowRun {
  /** The local API's `--faults`. */
  faults?: string;
  /** Wait for processing (default true). */
  wait?: boolean;
  /** Leave the rate limit at its default. */
  defaults?: boolean;
  /** The tool's name in the table. */
  tool?: string;
}

async function runUpflowLocal(
  tmp: string,
  dataset: Dataset,
  plan: Plan,
  how: UpflowRun = {},
): Promise<Row> {
  const wait = how.wait ?? true;
  const api = await freshLocalApi(tmp, `upflow-${dataset.key ?? dataset.name}`, how.faults);
  try {
    log(`upflow ${dataset.label} → local API${how.faults ? ` (${how.faults})` : ""}`);
    const result = await runMeasured(
      DENO,
      upflowArgs(
        dataset,
        api.base,
        join(tmp, `journal-${crypto.randomUUID()}.ndjson`),
        wait,
        how.defaults,
      ),
      { env: ENV, cwd: ROOT, timeoutS: plan.timeout.upflow },
    );
    const stored = await countInputs(api.base, KEY);
    const summary = summaryOf(result);
    const note = summary
      ? `${summary.uploaded} uploaded, ${summary.failed} failed, ${summary.rejected} rejected`
      : `no summary: ${result.stderrTail.slice(-300)}`;
    return row(
      dataset,
      how.tool ?? "upflow CLI",
      "local API",
      result,
      stored,
      dataset.bytes * stored / dataset.inputs,
      note,
    );
  } finally {
    await api.stop();
  }
}

async function runUpflowDiscard(tmp: string, dataset: Dataset, plan: Plan): Promise<Row> {
  const server = await startServer(DISCARD, ["--port", "0"], /listening on (\d+)/);
  try {
    log(`upflow ${dataset.label} → discard server`);
    const result = await runMeasured(
      DENO,
      upflowArgs(dataset, server.base, join(tmp, `journal-${crypto.randomUUID()}.ndjson`), false),
      { env: ENV, cwd: ROOT, timeoutS: plan.timeout.upflow },
    );
    const summary = summaryOf(result);
    const uploaded = Number(summary?.uploaded ?? 0);
    return row(
      dataset,
      "upflow CLI",
      "discard server",
      result,
      uploaded,
      dataset.bytes * uploaded / dataset.inputs,
      summary ? "" : `no summary: ${result.stderrTail.slice(-300)}`,
    );
  } finally {
    await server.stop();
  }
}

async function runSdk(
  tmp: string,
  dataset: Dataset,
  plan: Plan,
  faults?: string,
): Promise<Row> {
  const api = await freshLocalApi(tmp, `sdk-${dataset.key ?? dataset.name}`, faults);
  const mode = dataset.name === "small" || dataset.name === "bigimages"
    ? "folder"
    : dataset.name === "large"
    ? "videos"
    : "csv";
  // Big images: at its default of 32 the SDK fails (32 × 19 MB > its 128 MiB message limit).
  const batch = dataset.name === "large" ? 1 : dataset.name === "bigimages" ? 5 : 32;
  const timeoutS = dataset.name === "small"
    ? plan.timeout.sdkSmall
    : dataset.name === "large" || dataset.name === "bigimages"
    ? plan.timeout.sdkLarge
    : plan.timeout.sdkCsv;
  try {
    log(`SDK ${dataset.label} → local API (timeout ${timeoutS} s)`);
    // Poll the server's count every 5 s: a run stopped by its timeout is then judged by its
    // steady rate too (the second half of the samples), not only by its average.
    const samples: [number, number][] = [];
    const t0 = performance.now();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        await new Promise((r) => setTimeout(r, 5000));
        if (!polling) break;
        try {
          samples.push([(performance.now() - t0) / 1000, await countInputs(api.base, KEY)]);
        } catch { /* not up yet */ }
      }
    })();
    const result = await runMeasured(
      DENO,
      [
        "run",
        "-A",
        "--lock",
        DEV_LOCK,
        SDK,
        mode,
        dataset.path,
        "--base",
        api.base,
        "--batch-size",
        String(batch),
      ],
      { env: ENV, cwd: ROOT, timeoutS },
    );
    polling = false;
    await poller;
    const stored = await countInputs(api.base, KEY);
    const half = samples.filter(([t]) => t >= timeoutS / 2);
    const steady = result.timedOut && half.length >= 2
      ? (half.at(-1)![1] - half[0][1]) / (half.at(-1)![0] - half[0][0])
      : undefined;
    const note = [
      `batch size ${batch}`,
      steady !== undefined
        ? `steady rate over the second half: ${
          steady >= 10 ? Math.round(steady) : steady.toFixed(2)
        } inputs/s`
        : "",
      result.code !== 0 && !result.timedOut
        ? result.stderrTail.split("\n").slice(-3).join(" ")
        : "",
      stored < dataset.inputs ? `${stored} of ${dataset.inputs} inputs stored` : "",
    ].filter(Boolean).join("; ");
    return row(
      dataset,
      "clarifai-nodejs SDK",
      "local API",
      result,
      stored,
      dataset.bytes * stored / dataset.inputs,
      note,
    );
  } finally {
    await api.stop();
  }
}

/**
 * The WAN case: small images with every tool's defaults (upflow's 15 requests/s, the SDK's
 * batches of 32 and its wait after each batch), to the local API 80 ms away
 * (`--faults latency-ms=80` delays every request) and without the latency: upflow with and
 * without `--wait`, the SDK as it is.
 */
async function runWan(tmp: string, base: Dataset, plan: Plan): Promise<Row[]> {
  const rows: Row[] = [];
  for (const latency of [80, 0]) {
    const dataset: Dataset = {
      ...base,
      key: `wan-${latency}`,
      label: `${base.inputs} small images, defaults, ${
        latency ? `local API ${latency} ms away` : "local API (no added latency)"
      }`,
    };
    const faults = latency ? `latency-ms=${latency}` : undefined;
    const show = (r: Row) => {
      rows.push(r);
      log(`  ${r.tool}: ${r.inputs} inputs in ${r.seconds.toFixed(2)} s ${r.note}`);
    };
    show(
      await runUpflowLocal(tmp, dataset, plan, {
        faults,
        defaults: true,
        wait: true,
        tool: "upflow CLI --wait",
      }),
    );
    show(
      await runUpflowLocal(tmp, dataset, plan, {
        faults,
        defaults: true,
        wait: false,
        tool: "upflow CLI (no --wait)",
      }),
    );
    show(await runSdk(tmp, dataset, plan, faults));
  }
  return rows;
}

async function runLimit(dataset: Dataset, plan: Plan): Promise<Row[]> {
  log(`limit ${dataset.label}: cat, then pre-encoded requests → discard server`);
  const cat = await runMeasured(
    "sh",
    ["-c", `find "${dataset.path}" -type f -exec cat {} + > /dev/null`],
    { timeoutS: plan.timeout.limit },
  );
  const server = await startServer(DISCARD, ["--port", "0"], /listening on (\d+)/);
  try {
    const sent = await runMeasured(
      DENO,
      ["run", "-A", LIMIT, dataset.path, "--base", server.base, "--batch-size", "32"],
      { cwd: ROOT, timeoutS: plan.timeout.limit },
    );
    const out = JSON.parse(sent.stdout.trim().split("\n").pop() || "{}");
    const rows = [
      row(dataset, "limit: cat > /dev/null", "—", cat, dataset.inputs, dataset.bytes),
    ];
    rows.push(row(
      dataset,
      "limit: pre-encoded requests",
      "discard server",
      sent,
      out.inputs ?? 0,
      dataset.bytes,
      `send time only (encoding done before the clock); ${out.requests} requests, ${
        ((out.requestBytes ?? 0) / 1e6).toFixed(0)
      } MB`,
      (out.ms ?? sent.wallMs) / 1000,
    ));
    return rows;
  } finally {
    await server.stop();
  }
}

async function machine(): Promise<Report["machine"]> {
  const cpu = /model name\s*:\s*(.*)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ?? "?";
  const memKb = Number(/MemTotal:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/meminfo"))?.[1]);
  const nodeVersion = await new Deno.Command("node", { args: ["--version"] }).output()
    .then((o) => new TextDecoder().decode(o.stdout).trim()).catch(() => "not found");
  const config = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json")));
  const packages = Object.values(config.imports as Record<string, string>)
    .filter((s) => s.startsWith("npm:")).map((s) => s.slice(4));
  return {
    nproc: navigator.hardwareConcurrency,
    memoryGiB: memKb / 1024 / 1024,
    cpu,
    kernel: Deno.osRelease(),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    node: nodeVersion,
    packages: [...packages, "@grpc/grpc-js@1.14.7 (the SDK's transport)"],
  };
}

async function csvParseBench(): Promise<Report["csvBench"]> {
  log("deno bench bench/csv_parse_bench.ts");
  const out = await new Deno.Command(DENO, {
    args: ["bench", "-A", "--json", join(ROOT, "bench/csv_parse_bench.ts")],
    cwd: ROOT,
    stdout: "piped",
    stderr: "null",
  }).output();
  try {
    const json = JSON.parse(new TextDecoder().decode(out.stdout));
    return json.benches.map((b: { name: string; results: { ok?: { avg: number } }[] }) => ({
      name: b.name,
      avgMs: (b.results[0]?.ok?.avg ?? NaN) / 1e6,
    }));
  } catch {
    return [];
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean" },
      keep: { type: "boolean" },
      data: { type: "string" },
      out: { type: "string" },
      skip: { type: "string" },
    },
  });
  const plan = values.quick ? QUICK : FULL;
  const skip = new Set((values.skip ?? "").split(",").filter(Boolean));
  const started = performance.now();
  const loadStart = loadAverage();
  const tmp = values.data ?? await Deno.makeTempDir({ prefix: "upflow-e2e-" });
  await Deno.mkdir(tmp, { recursive: true });

  const need = (Math.max(plan.small, plan.growthSmall[1]) * plan.smallBytes +
    Math.max(plan.large, plan.growthLarge[1]) * plan.largeBytes * 2 + plan.csvRows * 80) / 1e9;
  const df = new TextDecoder().decode(
    (await new Deno.Command("df", { args: ["-h", tmp] }).output()).stdout,
  );
  log(`data in ${tmp}; needs about ${need.toFixed(1)} GB (data plus one API database)\n${df}`);

  log("generating data");
  const genStart = performance.now();
  const smallPool = join(tmp, "pool-small");
  const largePool = join(tmp, "pool-large");
  const smallCount = Math.max(plan.small, plan.growthSmall[1]);
  const largeCount = Math.max(plan.large, plan.growthLarge[1]);
  await writeSmallPool(smallPool, smallCount, plan.smallBytes);
  await writeLargePool(largePool, largeCount, plan.largeBytes);
  const bigImagePath = join(tmp, `bigimages-${plan.bigImages}`, "cats");
  await writeSmallPool(bigImagePath, plan.bigImages, plan.bigImageBytes);
  const set = async (kind: "small" | "large", count: number): Promise<string> => {
    const dir = join(tmp, `${kind}-${count}`, kind === "small" ? "cats" : "videos");
    await linkSet(
      kind === "small" ? smallPool : largePool,
      dir,
      count,
      kind === "small" ? smallName : largeName,
    );
    return dir;
  };
  const csvPath = join(tmp, "urls.csv");
  const csvBytes = await writeUrlCsv(csvPath, plan.csvRows);
  const small: Dataset = {
    name: "small",
    label: `${plan.small.toLocaleString("en-US")} small images (${plan.smallBytes / 1000} KB)`,
    path: await set("small", plan.small),
    inputs: plan.small,
    bytes: plan.small * plan.smallBytes,
  };
  const large: Dataset = {
    name: "large",
    label: `${plan.large} large videos (${plan.largeBytes / 1e6} MB)`,
    path: await set("large", plan.large),
    inputs: plan.large,
    bytes: plan.large * plan.largeBytes,
  };
  const csv: Dataset = {
    name: "csv",
    label: `${plan.csvRows.toLocaleString("en-US")}-row CSV of image URLs`,
    path: csvPath,
    inputs: plan.csvRows,
    bytes: csvBytes,
  };
  const bigImages: Dataset = {
    name: "bigimages",
    label: `${plan.bigImages} images of ${plan.bigImageBytes / 1e6} MB`,
    path: bigImagePath,
    inputs: plan.bigImages,
    bytes: plan.bigImages * plan.bigImageBytes,
  };
  const wanSet: Dataset = {
    name: "small",
    label: `${plan.wan} small images`,
    path: await set("small", plan.wan),
    inputs: plan.wan,
    bytes: plan.wan * plan.smallBytes,
  };
  const generateSeconds = (performance.now() - genStart) / 1000;
  log(`generated in ${generateSeconds.toFixed(0)} s`);

  const rows: Row[] = [];
  const show = (r: Row, into = rows) => {
    into.push(r);
    log(
      `  ${r.tool} → ${r.target}: ${r.inputs} inputs in ${r.seconds.toFixed(1)} s, ${
        r.inputsPerSecond.toFixed(0)
      } inputs/s, ${r.mbPerSecond.toFixed(1)} MB/s, peak ${r.peakRssMiB.toFixed(0)} MiB ${r.note}`,
    );
  };
  for (const dataset of [small, bigImages, large, csv]) {
    if (skip.has(dataset.name)) continue;
    show(await runUpflowLocal(tmp, dataset, plan));
    if (!skip.has("sdk")) show(await runSdk(tmp, dataset, plan));
    // Big images are there for memory: the transport limit is measured on the videos.
    if (dataset.name === "bigimages") continue;
    for (const r of await runLimit(dataset, plan)) show(r);
    // upflow's client side alone, for the small images; for the large files the growth runs
    // (1 GB and 4 GB to the same server) say it, and the CSV has no target on it (time budget).
    if (dataset.name === "small") show(await runUpflowDiscard(tmp, dataset, plan));
  }

  const wan = skip.has("wan") ? [] : await runWan(tmp, wanSet, plan);

  const growth: Row[] = [];
  if (!skip.has("growth")) {
    for (const count of plan.growthSmall) {
      const dataset: Dataset = {
        name: "small",
        label: `${count.toLocaleString("en-US")} small images`,
        path: await set("small", count),
        inputs: count,
        bytes: count * plan.smallBytes,
      };
      show(await runUpflowDiscard(tmp, dataset, plan), growth);
    }
    for (const count of plan.growthLarge) {
      const dataset: Dataset = {
        name: "large",
        label: `${
          (count * plan.largeBytes / 1e9).toFixed(count * plan.largeBytes < 1e9 ? 2 : 0)
        } GB of videos (${count} × ${plan.largeBytes / 1e6} MB)`,
        path: await set("large", count),
        inputs: count,
        bytes: count * plan.largeBytes,
      };
      show(await runUpflowDiscard(tmp, dataset, plan), growth);
    }
  }

  const csvBench = skip.has("csv-bench") ? [] : await csvParseBench();
  const git = (args: string[]) =>
    new Deno.Command("git", { args, cwd: ROOT }).output().then((o) =>
      new TextDecoder().decode(o.stdout).trim()
    ).catch(() => "?");
  const commit = await git(["rev-parse", "--short", "HEAD"]);
  const dirty = await git(["status", "--porcelain", "--", "src", "server"]);
  const report: Report = {
    quick: values.quick ?? false,
    commit: `${commit}${dirty ? " (with uncommitted changes in src/ or server/)" : ""}`,
    command: `deno run -A bench/e2e/main.ts${values.quick ? " --quick" : ""}`,
    date: new Date().toISOString(),
    machine: await machine(),
    loadAverage: { start: loadStart, end: loadAverage() },
    totalSeconds: (performance.now() - started) / 1000,
    generateSeconds,
    rows,
    wan,
    growth,
    csvBench,
    maxBatchBytesMiB: DEFAULT_MAX_BATCH_BYTES / 1024 / 1024,
    concurrency: 4,
  };
  const text = renderReport(report);
  console.log(text);
  const resultsPath = join(ROOT, `bench/e2e/results${values.quick ? "-quick" : ""}.json`);
  await Deno.writeTextFile(
    resultsPath,
    JSON.stringify(report, null, 2) + "\n",
  );
  const out = values.out ?? (values.quick ? undefined : join(ROOT, "BENCHMARKS.md"));
  if (out) {
    const begin = "<!-- e2e:begin -->", end = "<!-- e2e:end -->";
    let doc = "";
    try {
      doc = await Deno.readTextFile(out);
    } catch { /* new */ }
    const block = `${begin}\n${text}\n${end}`;
    doc = doc.includes(begin) && doc.includes(end)
      ? doc.slice(0, doc.indexOf(begin)) + block + doc.slice(doc.indexOf(end) + end.length)
      : `${doc}${doc ? "\n" : ""}${block}\n`;
    await Deno.writeTextFile(out, doc);
    // The published chart goes with BENCHMARKS.md; a run written elsewhere keeps its own.
    const chart = values.out
      ? out.replace(/\.md$/, "") + "-chart.svg"
      : join(ROOT, "bench/e2e/chart.svg");
    await Deno.writeTextFile(chart, renderChart(rows));
    // Keep `deno fmt --check` (the test task) clean after a run.
    await new Deno.Command(DENO, {
      args: [
        "fmt",
        "--quiet",
        out,
        join(ROOT, "bench/e2e/results.json"),
        join(ROOT, "bench/e2e/chart.svg"),
      ],
      cwd: ROOT,
    }).output();
    log(`wrote ${out} and ${chart}`);
  }
  if (!values.keep) await Deno.remove(tmp, { recursive: true });
  log(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}
