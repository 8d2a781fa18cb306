/**
 * The terminal face of progress events: a one-line bar with counts, rate and ETA, redrawn in
 * place on a terminal; plain lines for rejections and failures; the summary table at the end.
 *
 * @module
 */
import type { ProgressEvent, UploadSummary } from "../pipeline/progress_event.ts";
import type { UploadRetryInfo } from "../pipeline/upload_stream.ts";

/**
 * Formats a byte count for people, in powers of 1000.
 *
 * @param bytes The count.
 * @returns Text such as `1.50 MB`.
 *
 * @example Usage
 * ```ts
 * import { formatBytes } from "./progress_bar.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(formatBytes(1_500_000), "1.50 MB");
 * ```
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)} ${units[unit]}`;
}

/**
 * Formats a duration for people.
 *
 * @param seconds The duration in seconds.
 * @returns Text such as `1m05s`.
 *
 * @example Usage
 * ```ts
 * import { formatDuration } from "./progress_bar.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(formatDuration(65), "1m05s");
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.floor(seconds % 60);
  if (m < 60) return `${m}m${String(s).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

const number = (n: number) => n.toLocaleString("en-US");

/**
 * Renders the bar line for a `progress` event.
 *
 * @param event A progress event.
 * @param width Columns for the bar itself (default 24).
 * @returns One line of text, without a newline.
 *
 * @example Usage
 * ```ts
 * import { renderProgressLine } from "./progress_bar.ts";
 * import { zeroCounts } from "../pipeline/progress_event.ts";
 * import { assertStringIncludes } from "@std/assert";
 *
 * const line = renderProgressLine({
 *   type: "progress",
 *   counts: { ...zeroCounts(), uploaded: 50 },
 *   bytes: 5_000_000,
 *   elapsedMs: 10_000,
 *   total: { inputs: 100, bytes: 10_000_000 },
 * });
 * assertStringIncludes(line, "50/100");
 * assertStringIncludes(line, "ETA 10s");
 * ```
 */
export function renderProgressLine(
  event: Extract<ProgressEvent, { type: "progress" }>,
  width = 24,
): string {
  const { counts, bytes, elapsedMs, total } = event;
  const seconds = Math.max(elapsedMs / 1000, 1e-3);
  const done = counts.uploaded + counts.failed + counts.rejected + counts.alreadyUploaded;
  const rate = counts.uploaded / seconds;
  const parts: string[] = [];
  if (total && total.inputs > 0) {
    const fraction = Math.min(1, done / total.inputs);
    const filled = Math.round(fraction * width);
    parts.push(`[${"#".repeat(filled)}${".".repeat(width - filled)}]`);
    parts.push(`${number(done)}/${number(total.inputs)}`);
    const remaining = total.inputs - done;
    if (rate > 0 && remaining > 0) parts.push(`ETA ${formatDuration(remaining / rate)}`);
  } else {
    parts.push(`${number(done)} inputs`);
  }
  parts.push(`${rate.toFixed(1)} inputs/s`);
  parts.push(`${formatBytes(bytes)} (${formatBytes(bytes / seconds)}/s)`);
  if (counts.failed) parts.push(`${number(counts.failed)} failed`);
  if (counts.rejected) parts.push(`${number(counts.rejected)} rejected`);
  if (counts.retries) parts.push(`${number(counts.retries)} retries`);
  return parts.join("  ");
}

/** Inputs skipped for one reason, for the summary. */
export interface SkipGroup {
  /** Why, in words. */
  reason: string;
  /** How many. */
  count: number;
  /** A few of their locations. */
  examples: string[];
  /** A stable name for the reason (`subfolder`, `hidden`, `extension`, …). */
  kind?: string;
}

/** Options of {@linkcode renderSummary}. */
export interface RenderSummaryOptions {
  /** Why inputs were skipped, grouped by reason. */
  skips?: readonly SkipGroup[];
  /** A run stopped by a fatal error: leave out the counters that are zero. */
  compact?: boolean;
}

/**
 * Renders the end-of-run summary as a small table, each counter with what it means.
 *
 * @param summary The run's summary.
 * @param options Skip reasons, and whether to leave out zero counters.
 * @returns Lines of text joined by newlines, ending with a newline.
 *
 * @example Usage
 * ```ts
 * import { renderSummary } from "./progress_bar.ts";
 * import { zeroCounts } from "../pipeline/progress_event.ts";
 * import { assertStringIncludes } from "@std/assert";
 *
 * const text = renderSummary({
 *   ...zeroCounts(), uploaded: 12, skipped: 1, runId: "r1", dryRun: false, batches: 1,
 *   bytes: 1000, durationMs: 500, inputsPerSecond: 24, megabytesPerSecond: 0,
 * }, { skips: [{ reason: "hidden", count: 1, examples: [".DS_Store"] }] });
 * assertStringIncludes(text, "uploaded");
 * assertStringIncludes(text, "12");
 * assertStringIncludes(text, "1 hidden (.DS_Store)");
 * ```
 */
export function renderSummary(summary: UploadSummary, options: RenderSummaryOptions = {}): string {
  const compact = options.compact ?? false;
  const rows: [string, string, string][] = [];
  const row = (name: string, value: number, meaning: string, always = false) => {
    if (value === 0 && !always) return;
    if (value === 0 && compact) return;
    rows.push([name, number(value), meaning]);
  };
  row(
    summary.dryRun ? "would upload" : "uploaded",
    summary.uploaded,
    summary.dryRun ? "valid and batched; nothing was sent" : "sent and accepted in this run",
    true,
  );
  row("already uploaded", summary.alreadyUploaded, "recorded as uploaded by an earlier run");
  row(
    "present",
    summary.present,
    summary.presentUnverified
      ? `on the server already, not sent again (${
        number(summary.presentUnverified)
      } without a digest: not verified)`
      : "on the server already (same content digest), not sent again",
  );
  row("failed", summary.failed, "sent, refused or given up on (reasons above)", true);
  row("rejected", summary.rejected, "refused by validation, never sent (reasons above)", true);
  const skips = options.skips ?? [];
  row(
    "skipped",
    summary.skipped,
    skips.length === 0
      ? "passed over on purpose"
      : skips.map((g) =>
        `${number(g.count)} ${g.reason} (${g.examples.join(", ")}${
          g.count > g.examples.length ? ", …" : ""
        })`
      ).join("; "),
  );
  if (summary.annotations || summary.annotationsFailed) {
    row("annotations", summary.annotations, "boxes, polygons and frames accepted", true);
    row("annotations failed", summary.annotationsFailed, "their inputs count as failed");
  }
  if (summary.processing) {
    row("processed", summary.processing.succeeded, "processed by the server", true);
    row("failed processing", summary.processing.failed, "the server could not process them", true);
    row("still processing", summary.processing.pending, "not processed when the wait ended");
  }
  const info: [string, string][] = [];
  if (!compact || summary.batches > 0) {
    info.push(["batches", number(summary.batches)]);
    info.push(["bytes", formatBytes(summary.bytes)]);
    info.push(["time", formatDuration(summary.durationMs / 1000)]);
    if (!summary.dryRun) {
      info.push([
        "rate",
        `${summary.inputsPerSecond} inputs/s, ${summary.megabytesPerSecond} MB/s`,
      ]);
    }
  }
  if (summary.retries) info.push(["retries", `${number(summary.retries)} requests sent again`]);
  if (summary.journal) info.push(["journal", summary.journal]);
  const width = Math.max(...[...rows, ...info].map(([k]) => k.length));
  const valueWidth = Math.max(0, ...rows.map(([, v]) => v.length));
  const lines = [
    ...rows.map(([k, v, m]) => `  ${k.padEnd(width)}  ${v.padStart(valueWidth)}  ${m}`),
    ...info.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
  ];
  return lines.length === 0 ? "" : lines.join("\n") + "\n";
}

/** A dataset version's status as a line: `dataset version 3f2a… of "ds": in progress (4 s)`. */
function versionLine(event: Extract<ProgressEvent, { type: "version" }>): string {
  const head = `dataset version ${event.id} of "${event.datasetId}"`;
  const time = formatDuration(event.elapsedMs / 1000);
  if (event.status === "ready") return `${head}: ready after ${time}`;
  if (event.error) return `${head}: ${event.status} after ${time}: ${event.error}`;
  return `${head}: ${event.status} (${time})`;
}

/** Where a {@linkcode ProgressPrinter} writes. */
export interface ProgressPrinterOptions {
  /** Writes text (default: standard error). */
  write?: (text: string) => void;
  /** Whether to redraw a bar in place (default: standard error is a terminal). */
  tty?: boolean;
  /** Columns of the terminal (default 100). */
  columns?: number;
  /** Print only rejections, failures and fatal errors: no start line, bar or progress lines. */
  quiet?: boolean;
  /** Also print each batch, each skipped file and each retry with its wait. */
  verbose?: boolean;
  /** Where the PAT comes from, for the start line (never the PAT itself). */
  credentials?: string;
  /** Milliseconds since an epoch (default `performance.now`), for the plain progress line. */
  now?: () => number;
}

/**
 * Prints progress events for people: a bar redrawn in place on a terminal, and one line per
 * rejection, failure and processing update.
 *
 * @example Usage
 * ```ts
 * import { ProgressPrinter } from "./progress_bar.ts";
 * import { assertStringIncludes } from "@std/assert";
 *
 * let out = "";
 * const printer = new ProgressPrinter({ write: (t) => out += t, tty: false });
 * printer.print({ type: "rejected", location: "data.csv:3", reason: "empty input" });
 * assertStringIncludes(out, "data.csv:3");
 * ```
 */
export class ProgressPrinter {
  #write: (text: string) => void;
  #tty: boolean;
  #columns: number;
  #barShown = false;
  #quiet: boolean;
  #verbose: boolean;
  #credentials?: string;
  #now: () => number;
  #startedAt: number;
  #latest?: Extract<ProgressEvent, { type: "progress" | "processing" | "version" }>;

  /**
   * Creates a printer.
   *
   * @param options Where to write, and whether it is a terminal.
   */
  constructor(options: ProgressPrinterOptions = {}) {
    const encoder = new TextEncoder();
    this.#write = options.write ?? ((text) => Deno.stderr.writeSync(encoder.encode(text)));
    this.#tty = options.tty ?? Deno.stderr.isTerminal();
    this.#columns = options.columns ?? 100;
    this.#quiet = options.quiet ?? false;
    this.#verbose = !this.#quiet && (options.verbose ?? false);
    this.#credentials = options.credentials;
    this.#now = options.now ?? (() => performance.now());
    this.#startedAt = this.#now();
  }

  /** Whether the bar is redrawn in place (standard error is a terminal). */
  get tty(): boolean {
    return this.#tty;
  }

  /**
   * Prints one plain progress line from the latest counts (`progress: 120/500 …`), for logs
   * that are not a terminal; nothing when quiet or before any counts came.
   */
  tick(): void {
    const latest = this.#latest;
    if (this.#quiet || latest === undefined) return;
    if (latest.type === "version") {
      this.#line(versionLine(latest));
      return;
    }
    if (latest.type === "processing") {
      this.#line(
        `processing: ${latest.succeeded} done, ${latest.failed} failed, ${latest.pending} pending`,
      );
      return;
    }
    this.#line(
      `progress: ${
        renderProgressLine({ ...latest, elapsedMs: this.#now() - this.#startedAt }, 20)
      }`,
    );
  }

  /**
   * Prints a retry with its wait (verbose only).
   *
   * @param info The retry.
   */
  retry(info: UploadRetryInfo): void {
    if (!this.#verbose) return;
    this.#line(
      `retry: ${info.what} attempt ${info.attempt} failed (${info.reason}); next attempt in ${
        formatDuration(info.delayMs / 1000)
      }`,
    );
  }

  #line(text: string) {
    if (this.#barShown) this.#write("\r\x1b[2K");
    this.#barShown = false;
    this.#write(text + "\n");
  }

  /**
   * Prints one event.
   *
   * @param event The event.
   */
  print(event: ProgressEvent): void {
    switch (event.type) {
      case "start":
        this.#startedAt = this.#now();
        if (this.#quiet) return;
        this.#line(
          `${
            event.dryRun
              ? "dry run: nothing will be sent"
              : `uploading to ${event.target}${this.#credentials ? `; ${this.#credentials}` : ""}`
          }` +
            (event.journal ? `\njournal: ${event.journal}` : "") +
            (event.resumed ? `\nresuming: ${event.resumed} inputs already uploaded` : ""),
        );
        return;
      case "rejected":
        this.#line(`rejected ${event.location}: ${event.reason}`);
        return;
      case "failed":
        this.#line(
          `failed ${event.location}${event.location === event.id ? "" : ` (${event.id})`}: ` +
            `${event.reason}`,
        );
        return;
      case "batch":
        if (this.#verbose) {
          this.#line(
            `batch ${event.batch}: ${event.ids.length} inputs, ${formatBytes(event.bytes)}` +
              (event.attempts === 0
                ? " (dry run)"
                : `, ${event.attempts} request${event.attempts === 1 ? "" : "s"}`) +
              (event.annotations ? `, ${event.annotations} annotations` : ""),
          );
        }
        return;
      case "skipped":
        if (this.#verbose) this.#line(`skipped ${event.location}: ${event.reason}`);
        return;
      case "processing":
        this.#latest = event;
        if (this.#tty && !this.#quiet) {
          this.#write(
            `\r\x1b[2Kprocessing: ${event.succeeded} done, ${event.failed} failed, ` +
              `${event.pending} pending`,
          );
          this.#barShown = true;
        }
        return;
      case "version": {
        const changed = this.#latest?.type !== "version" ||
          this.#latest.status !== event.status;
        this.#latest = event;
        if (this.#quiet && (event.status !== "failed" && event.status !== "timed out")) return;
        if (this.#tty && (event.status === "pending" || event.status === "in progress")) {
          this.#write(`\r\x1b[2K${versionLine(event)}`);
          this.#barShown = true;
        } else if (changed || !this.#tty) this.#line(versionLine(event));
        return;
      }
      case "progress":
        this.#latest = event;
        if (this.#tty && !this.#quiet) {
          this.#write(`\r\x1b[2K${renderProgressLine(event).slice(0, this.#columns - 1)}`);
          this.#barShown = true;
        }
        return;
      case "done":
        if (this.#barShown) this.#write("\n");
        this.#barShown = false;
        return;
      default:
        return;
    }
  }
}
