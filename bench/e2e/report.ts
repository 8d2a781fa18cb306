/**
 * The end-to-end benchmark's report: the results table, the ratios against the targets, and the
 * machine, as Markdown.
 *
 * @module
 */

/** One measured run. */
export interface Row {
  /** Dataset, for people. */
  dataset: string;
  /** Dataset key: small, large or csv. */
  datasetKey: string;
  /** The tool. */
  tool: string;
  /** The server it sent to. */
  target: string;
  /** Inputs stored (local API) or accepted (discard server). */
  inputs: number;
  /** Wall time in seconds. */
  seconds: number;
  /** Inputs per second. */
  inputsPerSecond: number;
  /** Content megabytes (10^6) per second. */
  mbPerSecond: number;
  /** Peak RSS of the client process in MiB. */
  peakRssMiB: number;
  /** What else happened. */
  note: string;
}

/** Everything a run measured. */
export interface Report {
  /** Whether it was the quick run. */
  quick: boolean;
  /** The command. */
  command: string;
  /** The commit measured. */
  commit: string;
  /** When. */
  date: string;
  /** The machine and the versions. */
  machine: {
    nproc: number;
    memoryGiB: number;
    cpu: string;
    kernel: string;
    deno: string;
    v8: string;
    node: string;
    packages: string[];
  };
  /** Load averages (1, 5, 15 min) at the start and the end. */
  loadAverage: { start: string; end: string };
  /** Total run time. */
  totalSeconds: number;
  /** Time spent generating the data. */
  generateSeconds: number;
  /** The dataset runs. */
  rows: Row[];
  /** The WAN case's runs (defaults; local API 80 ms away, and without the latency). */
  wan?: Row[];
  /** The growth runs (upflow to the discard server). */
  growth: Row[];
  /** `deno bench` of the CSV parsers: average ms per parse of the same text. */
  csvBench: { name: string; avgMs: number }[];
  /** upflow's default maxBatchBytes in MiB (read from the code). */
  maxBatchBytesMiB: number;
  /** upflow's default concurrency. */
  concurrency: number;
}

function find(rows: Row[], key: string, tool: string, target?: string): Row | undefined {
  return rows.find((r) =>
    r.datasetKey === key && r.tool.startsWith(tool) && (target === undefined || r.target === target)
  );
}

function n(value: number, digits = 1): string {
  if (!Number.isFinite(value)) return "—";
  return value >= 100 ? Math.round(value).toLocaleString("en-US") : value.toFixed(digits);
}

/** A target with its measured ratio. */
export interface TargetResult {
  /** The target, for people. */
  target: string;
  /** The measured value. */
  measured: string;
  /** Met, missed, or not measured. */
  verdict: "met" | "MISSED" | "not measured";
}

/**
 * Computes the targets' ratios from a report.
 *
 * @param report The report.
 * @returns One line per target.
 */
export function targets(report: Report): TargetResult[] {
  const rows = report.rows;
  const out: TargetResult[] = [];
  const add = (
    target: string,
    value: number | undefined,
    ok: (v: number) => boolean,
    fmt: (v: number) => string,
  ) => {
    if (value === undefined || !Number.isFinite(value)) {
      out.push({ target, measured: "—", verdict: "not measured" });
    } else out.push({ target, measured: fmt(value), verdict: ok(value) ? "met" : "MISSED" });
  };
  const x = (v: number) => `${v.toFixed(2)}×`;
  const upSmall = find(rows, "small", "upflow", "local API");
  const sdkSmall = find(rows, "small", "clarifai");
  const upLarge = find(rows, "large", "upflow", "local API");
  // upflow's client side alone on large files: the largest growth run (same discard server).
  const upLargeDiscard = find(rows, "large", "upflow", "discard server") ??
    report.growth.filter((r) => r.datasetKey === "large").at(-1);
  const sdkLarge = find(rows, "large", "clarifai");
  const limitLarge = find(rows, "large", "limit: pre-encoded");
  add(
    "small images: upflow ≥ 5× the SDK's inputs/s",
    upSmall && sdkSmall && upSmall.inputsPerSecond / sdkSmall.inputsPerSecond,
    (v) => v >= 5,
    x,
  );
  add(
    "large files: upflow ≥ 2× the SDK's inputs/s",
    upLarge && sdkLarge && upLarge.inputsPerSecond / sdkLarge.inputsPerSecond,
    (v) => v >= 2,
    x,
  );
  add(
    "large files: upflow's peak memory ≤ 1/4 of the SDK's",
    upLarge && sdkLarge && upLarge.peakRssMiB / sdkLarge.peakRssMiB,
    (v) => v <= 0.25,
    (v) => `${v.toFixed(2)} (${n(upLarge!.peakRssMiB)} vs ${n(sdkLarge!.peakRssMiB)} MiB)`,
  );
  const bound = report.concurrency * report.maxBatchBytesMiB + 100;
  add(
    `large files: upflow's peak memory ≤ concurrency × maxBatchBytes + 100 MB (${report.concurrency} × ${report.maxBatchBytesMiB} + 100 = ${bound} MiB)`,
    upLarge?.peakRssMiB,
    (v) => v <= bound,
    (v) => `${n(v)} MiB`,
  );
  add(
    "large files: upflow (to the local API) ≥ 70% of the transport limit's MB/s",
    upLarge && limitLarge && upLarge.mbPerSecond / limitLarge.mbPerSecond,
    (v) => v >= 0.7,
    (v) =>
      `${(v * 100).toFixed(0)}% (${n(upLarge!.mbPerSecond)} vs ${n(limitLarge!.mbPerSecond)} MB/s)`,
  );
  add(
    "large files: upflow (to the discard server: client side only; the largest growth run) ≥ 70% of the transport limit's MB/s",
    upLargeDiscard && limitLarge && upLargeDiscard.mbPerSecond / limitLarge.mbPerSecond,
    (v) => v >= 0.7,
    (v) =>
      `${(v * 100).toFixed(0)}% (${n(upLargeDiscard!.mbPerSecond)} vs ${
        n(limitLarge!.mbPerSecond)
      } MB/s)`,
  );
  const upBig = find(rows, "bigimages", "upflow", "local API");
  const sdkBig = find(rows, "bigimages", "clarifai");
  add(
    "big images (~19 MB): upflow's peak memory ≤ 1/4 of the SDK's (SDK at batch size 5)",
    upBig && sdkBig && upBig.peakRssMiB / sdkBig.peakRssMiB,
    (v) => v <= 0.25,
    (v) => `${v.toFixed(2)} (${n(upBig!.peakRssMiB)} vs ${n(sdkBig!.peakRssMiB)} MiB)`,
  );
  add(
    `big images (~19 MB): upflow's peak memory ≤ ${bound} MiB`,
    upBig?.peakRssMiB,
    (v) => v <= bound,
    (v) => `${n(v)} MiB`,
  );
  for (const [key, goal] of [["wan-80", 5], ["wan-0", 3]] as const) {
    const wan = report.wan ?? [];
    const up = wan.find((r) => r.datasetKey === key && r.tool === "upflow CLI --wait");
    const sdk = wan.find((r) => r.datasetKey === key && r.tool.startsWith("clarifai"));
    add(
      `${up?.dataset ?? key}, with --wait: upflow ≥ ${goal}× faster than the SDK (wall time)`,
      up && sdk && sdk.seconds / up.seconds,
      (v) => v >= goal,
      (v) => `${v.toFixed(2)}× (${n(up!.seconds, 2)} vs ${n(sdk!.seconds, 2)} s)`,
    );
  }
  const bench = (name: string) => report.csvBench.find((b) => b.name.startsWith(name))?.avgMs;
  const ours = bench("upflow CsvParseStream");
  const theirs = bench("csv-parse (sync)");
  const theirsStream = bench("csv-parse (stream");
  add(
    "CSV parsing: CsvParseStream ≥ csv-parse's throughput (sync API; stream API in brackets)",
    ours && theirs ? theirs / ours : undefined,
    (v) => v >= 1,
    (v) => `${v.toFixed(2)}× (${theirsStream && ours ? (theirsStream / ours).toFixed(2) : "—"}×)`,
  );
  const g = report.growth;
  const smallGrowth = g.filter((r) => r.datasetKey === "small");
  const largeGrowth = g.filter((r) => r.datasetKey === "large");
  add(
    `growth: ${
      smallGrowth.map((r) => r.inputs.toLocaleString("en-US")).join(" vs ")
    } small inputs, time ratio ≤ 11`,
    smallGrowth.length === 2 ? smallGrowth[1].seconds / smallGrowth[0].seconds : undefined,
    (v) => v <= 11,
    (v) => `${v.toFixed(2)} (${n(smallGrowth[0].seconds)} s → ${n(smallGrowth[1].seconds)} s)`,
  );
  add(
    `growth: ${
      largeGrowth.map((r) => r.dataset.split(" (")[0]).join(" vs ")
    }, peak memory ratio ≤ 1.2`,
    largeGrowth.length === 2 ? largeGrowth[1].peakRssMiB / largeGrowth[0].peakRssMiB : undefined,
    (v) => v <= 1.2,
    (v) =>
      `${v.toFixed(2)} (${n(largeGrowth[0].peakRssMiB)} → ${n(largeGrowth[1].peakRssMiB)} MiB)`,
  );
  return out;
}

function table(rows: Row[]): string {
  const lines = [
    "| dataset | tool | server | inputs | wall s | inputs/s | MB/s | peak RSS MiB | note |",
    "|---|---|---|---:|---:|---:|---:|---:|---|",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.dataset} | ${r.tool} | ${r.target} | ${r.inputs.toLocaleString("en-US")} | ${
        n(r.seconds)
      } | ${n(r.inputsPerSecond)} | ${n(r.mbPerSecond)} | ${
        r.tool.startsWith("limit: cat") ? "—" : n(r.peakRssMiB, 0)
      } | ${r.note.replaceAll("|", "/")} |`,
    );
  }
  return lines.join("\n");
}

/**
 * The WAN case: its runs, what `--wait` costs upflow, and the floor the default rate limit
 * sets (each batch's PostInputs and its processing polls go through the 15 requests/s limit).
 */
function wanSection(report: Report): string[] {
  const wan = report.wan ?? [];
  if (wan.length === 0) return [];
  const lines: string[] = [];
  for (const key of [...new Set(wan.map((r) => r.datasetKey))]) {
    const of = (tool: string) => wan.find((r) => r.datasetKey === key && r.tool.startsWith(tool));
    const wait = of("upflow CLI --wait"), noWait = of("upflow CLI (no"), sdk = of("clarifai");
    const parts = [];
    if (wait && sdk) {
      parts.push(`SDK/upflow --wait time ${(sdk.seconds / wait.seconds).toFixed(2)}×`);
    }
    if (noWait && sdk) {
      parts.push(`SDK/upflow (no --wait) time ${(sdk.seconds / noWait.seconds).toFixed(2)}×`);
    }
    if (wait && noWait) {
      parts.push(`--wait adds ${(wait.seconds - noWait.seconds).toFixed(2)} s`);
    }
    if (wait) {
      const requests = Math.ceil(wait.inputs / 32);
      parts.push(
        `${requests} PostInputs requests at 15 requests/s take at least ${
          (requests / 15).toFixed(2)
        } s`,
      );
    }
    lines.push(`- ${(wait ?? sdk)!.dataset}: ${parts.join(", ")}`);
  }
  return [
    "### WAN case (every tool with its defaults, `--faults latency-ms=80` and without)",
    "",
    ...lines,
    "",
    table(wan),
    "",
  ];
}

/**
 * Renders the report as Markdown.
 *
 * @param report The report.
 * @returns Markdown.
 */
export function renderReport(report: Report): string {
  const m = report.machine;
  const ratios = (key: string) => {
    const up = find(report.rows, key, "upflow", "local API");
    const sdk = find(report.rows, key, "clarifai");
    const limit = find(report.rows, key, "limit: pre-encoded");
    const upDiscard = find(report.rows, key, "upflow", "discard server");
    const parts = [];
    if (up && sdk) {
      parts.push(`upflow/SDK inputs/s ${(up.inputsPerSecond / sdk.inputsPerSecond).toFixed(2)}×`);
    }
    if (up && sdk) {
      parts.push(`upflow/SDK peak memory ${(up.peakRssMiB / sdk.peakRssMiB).toFixed(2)}`);
    }
    if (up && limit) {
      parts.push(
        `upflow (local API)/limit ${
          (up.inputsPerSecond / limit.inputsPerSecond * 100).toFixed(0)
        }%`,
      );
    }
    if (upDiscard && limit) {
      parts.push(
        `upflow (discard server)/limit ${
          (upDiscard.inputsPerSecond / limit.inputsPerSecond * 100).toFixed(0)
        }%`,
      );
    }
    return parts.join(", ");
  };
  const datasets = [...new Set(report.rows.map((r) => r.datasetKey))];
  return [
    `## End-to-end results${
      report.quick ? " (quick run: tiny sizes, not the published figures)" : ""
    }`,
    "",
    `Command: \`${report.command}\` at commit ${report.commit} — ${report.date}, ${
      report.totalSeconds.toFixed(0)
    } s in all (data generation ${report.generateSeconds.toFixed(0)} s).`,
    "",
    `Machine: ${m.nproc} CPUs (${m.cpu}), ${
      m.memoryGiB.toFixed(1)
    } GiB memory, Linux ${m.kernel}; load average ${report.loadAverage.start} at the start, ${report.loadAverage.end} at the end (other sessions shared the machine).`,
    "",
    `Versions: Deno ${m.deno} (V8 ${m.v8}), Node ${m.node} (not used to run), ${
      m.packages.join(", ")
    }.`,
    "",
    "### Targets",
    "",
    "| target | measured | verdict |",
    "|---|---|---|",
    ...targets(report).map((t) => `| ${t.target} | ${t.measured} | ${t.verdict} |`),
    "",
    "### Ratios per dataset",
    "",
    ...datasets.map((key) =>
      `- ${report.rows.find((r) => r.datasetKey === key)!.dataset}: ${ratios(key)}`
    ),
    "",
    "### All runs",
    "",
    table(report.rows),
    "",
    ...wanSection(report),
    "### Growth (upflow CLI to the discard server)",
    "",
    table(report.growth),
    "",
    "### CSV parsers (`deno bench bench/csv_parse_bench.ts`, the same 8 MB text)",
    "",
    "| parser | ms per parse |",
    "|---|---:|",
    ...report.csvBench.map((b) => `| ${b.name} | ${b.avgMs.toFixed(1)} |`),
    "",
    "![inputs/s and peak memory per tool](bench/e2e/chart.svg)",
  ].join("\n");
}
