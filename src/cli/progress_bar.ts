/**
 * The terminal face of progress events: a one-line bar with counts, rate and ETA, redrawn in
 * place on a terminal; plain lines for rejections and failures; the summary table at the end.
 *
 * @module
 */
import type { ProgressEvent, UploadSummary } from "../pipeline/progress_event.ts";

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

/**
 * Renders the end-of-run summary as a small table.
 *
 * @param summary The run's summary.
 * @returns Lines of text joined by newlines, ending with a newline.
 *
 * @example Usage
 * ```ts
 * import { renderSummary } from "./progress_bar.ts";
 * import { zeroCounts } from "../pipeline/progress_event.ts";
 * import { assertStringIncludes } from "@std/assert";
 *
 * const text = renderSummary({
 *   ...zeroCounts(), uploaded: 12, runId: "r1", dryRun: false, batches: 1, bytes: 1000,
 *   durationMs: 500, inputsPerSecond: 24, megabytesPerSecond: 0,
 * });
 * assertStringIncludes(text, "uploaded");
 * assertStringIncludes(text, "12");
 * ```
 */
export function renderSummary(summary: UploadSummary): string {
  const rows: [string, string][] = [
    [summary.dryRun ? "would upload" : "uploaded", number(summary.uploaded)],
  ];
  if (summary.alreadyUploaded) rows.push(["already uploaded", number(summary.alreadyUploaded)]);
  rows.push(["failed", number(summary.failed)]);
  rows.push(["rejected", number(summary.rejected)]);
  if (summary.skipped) rows.push(["skipped", number(summary.skipped)]);
  if (summary.annotations || summary.annotationsFailed) {
    rows.push(["annotations", number(summary.annotations)]);
  }
  if (summary.processing) {
    rows.push(["processed", number(summary.processing.succeeded)]);
    rows.push(["failed processing", number(summary.processing.failed)]);
    if (summary.processing.pending) {
      rows.push(["still processing", number(summary.processing.pending)]);
    }
  }
  rows.push(["batches", number(summary.batches)]);
  rows.push(["bytes", formatBytes(summary.bytes)]);
  rows.push(["time", formatDuration(summary.durationMs / 1000)]);
  if (!summary.dryRun) {
    rows.push(["rate", `${summary.inputsPerSecond} inputs/s, ${summary.megabytesPerSecond} MB/s`]);
  }
  if (summary.retries) rows.push(["retries", number(summary.retries)]);
  if (summary.journal) rows.push(["journal", summary.journal]);
  const width = Math.max(...rows.map(([k]) => k.length));
  let text = rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join("\n") + "\n";
  if (summary.fatal) text += `\nstopped: ${summary.fatal.message}\n`;
  if (summary.cancelled) text += "\ncancelled before the end\n";
  return text;
}

/** Where a {@linkcode ProgressPrinter} writes. */
export interface ProgressPrinterOptions {
  /** Writes text (default: standard error). */
  write?: (text: string) => void;
  /** Whether to redraw a bar in place (default: standard error is a terminal). */
  tty?: boolean;
  /** Columns of the terminal (default 100). */
  columns?: number;
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
        this.#line(
          `${event.dryRun ? "dry run: nothing will be sent" : `uploading to ${event.target}`}` +
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
      case "processing":
        if (this.#tty) {
          this.#write(
            `\r\x1b[2Kprocessing: ${event.succeeded} done, ${event.failed} failed, ` +
              `${event.pending} pending`,
          );
          this.#barShown = true;
        }
        return;
      case "progress":
        if (this.#tty) {
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
