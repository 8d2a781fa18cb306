/**
 * How the CLI reports an upload run: progress on standard error (a bar on a terminal, a plain
 * line every few seconds elsewhere, or NDJSON events with `--json`), the summary with every
 * counter explained, and a last line that says how the run ended, why nothing was uploaded when
 * nothing was, what to do about a fatal error, and how to resume an interrupted run.
 *
 * @module
 */
import type {
  DatasetVersionMetrics,
  DatasetVersionResult,
  ProgressEvent,
  UploadSummary,
} from "../pipeline/progress_event.ts";
import type { UploadRetryInfo } from "../pipeline/upload_stream.ts";
import { formatDuration, ProgressPrinter, renderSummary, type SkipGroup } from "./progress_bar.ts";
import { ExitCode, exitCodeOf } from "./exit_code.ts";
import { VERSION } from "../version.ts";

/** Options of {@linkcode RunReporter}. */
export interface ReportOptions {
  /** Write the events as NDJSON to standard output instead of text. */
  json?: boolean;
  /** Only the summary and errors. */
  quiet?: boolean;
  /** Also each batch, each skipped file and each retry with its wait. */
  verbose?: boolean;
  /** Off a terminal: milliseconds between plain progress lines (default 10 000; 0: none). */
  progressIntervalMs?: number;
  /** Where the PAT comes from, for the first line (never the PAT). */
  credentials?: string;
  /** The command that runs this upload again (it resumes from the journal). */
  resumeCommand?: string;
  /** Writes to standard output (default `Deno.stdout`). */
  out?: (text: string) => void;
  /** Writes to standard error (default `Deno.stderr`). */
  err?: (text: string) => void;
  /** Whether standard error is a terminal (default: asks `Deno.stderr`). */
  tty?: boolean;
  /** Listen for Ctrl-C (SIGINT) and stop the run cleanly (default `true`). */
  handleSigint?: boolean;
}

/** At most this many skip reasons are kept for the summary, each with a few examples. */
const MAX_SKIP_GROUPS = 8;
const MAX_EXAMPLES = 3;

/** Words for a skip reason that names an option of the library, in the CLI's own terms. */
function skipGroupKey(reason: string): { key: string; hint?: string } {
  if (reason.startsWith("a folder: subfolders are walked only")) {
    return { key: "subfolder", hint: "subfolders, walked only with --recursive" };
  }
  if (reason.startsWith("hidden")) return { key: "hidden", hint: "hidden (name starting with .)" };
  const extension = /^extension "(.*)" is not/.exec(reason);
  if (extension) {
    return {
      key: "extension",
      hint: "files of another kind (not an image, text, video or audio extension)",
    };
  }
  if (reason.startsWith("no extension")) {
    return {
      key: "extension",
      hint: "files of another kind (not an image, text, video or audio extension)",
    };
  }
  const kind = /^(\w+) file: inputTypes is (.*)$/.exec(reason);
  if (kind) return { key: `kind ${kind[1]}`, hint: `${kind[1]} files: --input-type is ${kind[2]}` };
  return { key: reason };
}

const encoder = new TextEncoder();

/**
 * Reports one upload run: give its `onRetry` and `signal` to the upload, then {@linkcode
 * RunReporter.run} its events. Prints the first line (the target and where the PAT comes from),
 * progress, the summary and a last line, and returns the exit code.
 *
 * @example Report a dry run
 * ```ts
 * import { RunReporter } from "./report_run.ts";
 * import { runUpload } from "../upload/run_upload.ts";
 * import { assertEquals, assertStringIncludes } from "@std/assert";
 *
 * let out = "";
 * const reporter = new RunReporter({ out: (t) => out += t, err: () => {}, tty: false, handleSigint: false });
 * const code = await reporter.run(runUpload([
 *   { id: "a", kind: "text", content: { type: "raw", text: "hi" }, location: "a", concepts: [] },
 * ], { dryRun: true }));
 * assertEquals(code, 0);
 * assertStringIncludes(out, "would upload");
 * ```
 */
export class RunReporter {
  #options: ReportOptions;
  #out: (text: string) => void;
  #err: (text: string) => void;
  #printer?: ProgressPrinter;
  #abort = new AbortController();
  #skips = new Map<string, SkipGroup>();
  #stoppingShown = false;

  /**
   * Creates a reporter.
   *
   * @param options Output mode, verbosity, the credentials line and the resume command.
   */
  constructor(options: ReportOptions = {}) {
    this.#options = options;
    this.#out = options.out ?? ((text) => Deno.stdout.writeSync(encoder.encode(text)));
    this.#err = options.err ?? ((text) => Deno.stderr.writeSync(encoder.encode(text)));
    if (!options.json) {
      this.#printer = new ProgressPrinter({
        write: this.#err,
        tty: options.tty,
        quiet: options.quiet,
        verbose: options.verbose,
        credentials: options.credentials,
      });
    }
  }

  /** Aborted on Ctrl-C: give it to the upload as its `signal`. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Give this to the upload as its `onRetry`: verbose output prints each retry and its wait. */
  readonly onRetry = (info: UploadRetryInfo): void => {
    if (this.#options.json || !this.#options.verbose) return;
    this.#printer?.retry(info);
  };

  #onSigint = () => {
    // `deno task` passes the terminal's Ctrl-C on to this process, which gets it as well: the
    // same key press can arrive twice. Say "stopping" once.
    if (!this.#stoppingShown) {
      this.#stoppingShown = true;
      this.#err(
        "\nstopping: finishing the requests in flight and the journal (Ctrl-C again to quit now)\n",
      );
      this.#abort.abort(new Error("interrupted"));
      return;
    }
    if (performance.now() - this.#stoppedAt > 1500) {
      this.#err("quit: the next run confirms what was in flight\n");
      Deno.exit(ExitCode.Interrupted);
    }
  };
  #stoppedAt = Infinity;

  #group(location: string, reason: string): void {
    const { key, hint } = skipGroupKey(reason);
    let group = this.#skips.get(key);
    if (group === undefined) {
      if (this.#skips.size >= MAX_SKIP_GROUPS) {
        group = this.#skips.get("other");
        if (group === undefined) {
          group = { reason: "other reasons", count: 0, examples: [] };
          this.#skips.set("other", group);
        }
      } else {
        group = { reason: hint ?? reason, count: 0, examples: [], kind: key };
        this.#skips.set(key, group);
      }
    }
    group.count++;
    if (group.examples.length < MAX_EXAMPLES) group.examples.push(location);
  }

  /**
   * Reads the run's events to the end, printing them, and returns the exit code.
   *
   * @param events The run's events.
   * @param notes Lines printed after the first line (what a retry cannot re-send); a run with
   *   notes and nothing uploaded says so in its last line.
   * @returns The exit code ({@linkcode ExitCode}).
   */
  async run(events: ReadableStream<ProgressEvent>, notes: string[] = []): Promise<number> {
    const options = this.#options;
    const listen = options.handleSigint ?? true;
    if (listen) {
      try {
        Deno.addSignalListener("SIGINT", this.#onSigint);
      } catch {
        // No signals on this platform: Ctrl-C ends the process as usual.
      }
    }
    this.#abort.signal.addEventListener("abort", () => this.#stoppedAt = performance.now());
    const printer = this.#printer;
    const interval = options.progressIntervalMs ?? 10_000;
    let timer: ReturnType<typeof setInterval> | undefined;
    if (printer && !printer.tty && !options.quiet && interval > 0) {
      timer = setInterval(() => printer.tick(), interval);
    }
    let summary: UploadSummary | undefined;
    let started = false;
    try {
      for await (const event of events) {
        if (event.type === "skipped") this.#group(event.location, event.reason);
        if (event.type === "start") started = true;
        if (event.type === "done") {
          summary = event.summary;
          if (!started && !options.json && !options.quiet && options.credentials) {
            // Stopped before its start (target refused, dataset missing): still say whose PAT.
            this.#err(`not started; ${options.credentials}\n`);
          }
        }
        if (options.json) {
          const line = event.type === "start"
            ? {
              ...event,
              version: VERSION,
              ...(options.credentials ? { credentials: options.credentials } : {}),
            }
            : event;
          this.#out(JSON.stringify(line) + "\n");
        } else {
          printer!.print(event);
          if (event.type === "start") { for (const note of notes) this.#err(`${note}\n`); }
        }
      }
    } finally {
      if (timer !== undefined) clearInterval(timer);
      if (listen) {
        try {
          Deno.removeSignalListener("SIGINT", this.#onSigint);
        } catch {
          // Never added.
        }
      }
    }
    if (!summary) {
      this.#err("error: the upload ended without a summary (a bug: please report it)\n");
      return ExitCode.Fatal;
    }
    const code = exitCodeOf(summary);
    if (options.json) return code;
    const skips = [...this.#skips.values()];
    this.#out(renderSummary(summary, { skips, compact: summary.fatal !== undefined }));
    if (summary.version) this.#out(renderVersion(summary.version));
    this.#out(
      `\n${
        lastLine(summary, skips, {
          resumeCommand: options.resumeCommand,
          credentials: options.credentials,
          notRetried: notes.length,
        })
      }\n`,
    );
    return code === ExitCode.Ok && nothingUploadedButSkipped(summary) ? ExitCode.SomeFailed : code;
  }
}

/**
 * Reports a run whose signal and retries the caller handles itself: a {@linkcode RunReporter}
 * that does not listen for Ctrl-C.
 *
 * @param events The run's events.
 * @param options `true` for NDJSON, or the report options.
 * @returns The exit code.
 */
export async function reportRun(
  events: ReadableStream<ProgressEvent>,
  options: boolean | ReportOptions = {},
): Promise<number> {
  const reporter = new RunReporter(
    typeof options === "boolean"
      ? { json: options, handleSigint: false }
      : { handleSigint: false, ...options },
  );
  return await reporter.run(events);
}

/** Concepts listed by name in a version's summary; the rest are counted. */
const MAX_CONCEPTS_SHOWN = 10;

/**
 * The dataset version's block of the summary: its outcome, then, when ready, its metrics as the
 * official Python SDK's `get_upload_status` shows them (inputs by kind, annotation counts,
 * concepts with their inputs, the most used first).
 *
 * @param version The version's outcome.
 * @returns Lines, each ending with a newline.
 *
 * @example Usage
 * ```ts
 * import { renderVersion } from "./report_run.ts";
 * import { assertStringIncludes } from "@std/assert";
 *
 * const text = renderVersion({
 *   id: "v1", datasetId: "pets", status: "ready", waitedMs: 600,
 *   metrics: {
 *     inputs: 3, inputsByKind: { image: 3 },
 *     annotations: { concepts: 3, boundingBoxes: 1, polygons: 0, frames: 0 },
 *     concepts: [
 *       { id: "cat", inputs: 1, inputTags: 1, boundingBoxes: 1, polygons: 0 },
 *       { id: "dog", inputs: 2, inputTags: 2, boundingBoxes: 0, polygons: 0 },
 *     ],
 *   },
 * });
 * assertStringIncludes(text, 'dataset version v1 of "pets": ready after 0.6s');
 * assertStringIncludes(text, "inputs       3 (image 3)");
 * assertStringIncludes(text, "concepts     2: dog 2, cat 1");
 * ```
 */
export function renderVersion(version: DatasetVersionResult): string {
  const head = `dataset version ${version.id} of "${version.datasetId}"`;
  const time = formatDuration(version.waitedMs / 1000);
  if (version.status !== "ready" || !version.metrics) {
    return `${head}: ${version.status} after ${time}${version.error ? `: ${version.error}` : ""}\n`;
  }
  return `${head}: ready after ${time}\n${renderVersionMetrics(version.metrics)}`;
}

/**
 * A dataset version's metrics as the official Python SDK's `get_upload_status` shows them:
 * inputs by kind, annotation counts, concepts with their inputs (the most used first).
 *
 * @param m The metrics.
 * @returns Three lines, indented, each ending with a newline.
 *
 * @example Usage
 * ```ts
 * import { renderVersionMetrics } from "./report_run.ts";
 * import { assertEquals } from "@std/assert";
 *
 * assertEquals(
 *   renderVersionMetrics({
 *     inputs: 1, inputsByKind: { text: 1 },
 *     annotations: { concepts: 1, boundingBoxes: 0, polygons: 0, frames: 0 },
 *     concepts: [{ id: "hi", inputs: 1, inputTags: 1, boundingBoxes: 0, polygons: 0 }],
 *   }).split("\n")[2],
 *   "  concepts     1: hi 1",
 * );
 * ```
 */
export function renderVersionMetrics(m: DatasetVersionMetrics): string {
  const n = (value: number) => value.toLocaleString("en-US");
  const kinds = Object.entries(m.inputsByKind).map(([kind, count]) => `${kind} ${n(count)}`);
  const a = m.annotations;
  const concepts = [...m.concepts].sort((x, y) => y.inputs - x.inputs || (x.id < y.id ? -1 : 1));
  const shown = concepts.slice(0, MAX_CONCEPTS_SHOWN).map((c) => `${c.id} ${n(c.inputs)}`);
  if (concepts.length > shown.length) shown.push(`… ${n(concepts.length - shown.length)} more`);
  return [
    `  inputs       ${n(m.inputs)}${kinds.length ? ` (${kinds.join(", ")})` : ""}`,
    `  annotations  ${plural(a.concepts, "concept")}, ${
      plural(a.boundingBoxes, "bounding box", "bounding boxes")
    }, ${plural(a.polygons, "polygon")}, ${plural(a.frames, "frame")}`,
    `  concepts     ${n(concepts.length)}${shown.length ? `: ${shown.join(", ")}` : ""}`,
    "",
  ].join("\n");
}

/** Nothing was uploaded (or would be) and something was skipped: exit 1, as for rejections. */
function nothingUploadedButSkipped(summary: UploadSummary): boolean {
  const present = (summary as { present?: number }).present ?? 0;
  return summary.uploaded === 0 && summary.alreadyUploaded === 0 && present === 0 &&
    summary.skipped > 0;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
}

/** A dataset version that was asked for and did not become ready, in words; else "". */
function versionProblem(summary: UploadSummary): string {
  const status = summary.version?.status;
  return status === undefined || status === "ready" ? "" : `the dataset version ${status}`;
}

/** Credential failures: the PAT (or where it came from) is what to fix. */
const CREDENTIAL_CODES =
  /^CONN_(KEY_|INVALID_ARGUMENT|AUTH|TOKEN)|UNAUTHENTICATED|PERMISSION_DENIED/;

/** What to do about a fatal error, by its code and message; `undefined` when it says already. */
function fatalHint(code: string, message: string): string | undefined {
  if (/^Dataset ".*" does not exist/.test(message)) {
    return "add --create-dataset, or check --dataset";
  }
  if (/\b(check|pass --|create it|fix |run with|set )/i.test(message)) return undefined;
  if (CREDENTIAL_CODES.test(code)) return "check the PAT";
  if (/PERMISSION|INSUFFICIENT_SCOPES|SCOPE/.test(code)) {
    return "give the PAT the scopes uploads need (Inputs:Add, Datasets:Add), or use another PAT";
  }
  if (code === "JOURNAL_IN_USE" || /is in use by/.test(message)) {
    return "wait for the other run to end, or pass --journal FILE";
  }
  if (/Cannot walk folder|NotFound|not found|no such file/i.test(message)) {
    return "check the path";
  }
  if (/NotCapable|--allow-/.test(message)) return "run with the Deno permissions it names";
  if (code === "INVALID_SOURCE" || /Syntax error|header/i.test(message)) {
    return "fix the file at the line named, then run the same command again";
  }
  if (/LIMIT|QUOTA|BILLING/.test(code)) return "check the app's plan and usage on clarifai.com";
  if (/UNAVAILABLE|ECONNREFUSED|connect|DEADLINE/i.test(code + message)) {
    return "check the target (--base, CLARIFAI_GRPC_BASE) is up and reachable, then run again";
  }
  return "fix the cause above, then run the same command again (it resumes)";
}

/**
 * The last line of a run's text output: how it ended, and what to do next.
 *
 * @param summary The run's summary.
 * @param skips Why inputs were skipped (grouped).
 * @param resumeCommand The command that runs the upload again.
 * @returns One line, without a newline.
 *
 * @example Usage
 * ```ts
 * import { lastLine } from "./report_run.ts";
 * import { zeroCounts } from "../pipeline/progress_event.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const base = {
 *   ...zeroCounts(), runId: "r", dryRun: false, batches: 0, bytes: 0, durationMs: 1,
 *   inputsPerSecond: 0, megabytesPerSecond: 0,
 * };
 * assertEquals(
 *   lastLine({ ...base, alreadyUploaded: 12 }, []),
 *   "nothing to upload: all 12 inputs were uploaded by an earlier run (see the journal)",
 * );
 * ```
 */
export function lastLine(
  summary: UploadSummary,
  skips: readonly SkipGroup[],
  context: { resumeCommand?: string; credentials?: string; notRetried?: number } = {},
): string {
  const { resumeCommand, credentials, notRetried = 0 } = context;
  if (summary.fatal) {
    const { code, message } = summary.fatal;
    const hint = fatalHint(code, message);
    const showCode = /^[A-Z][A-Z0-9_]+$/.test(code) && !message.includes(code);
    let line = `error: ${message}${showCode ? ` (${code})` : ""}${hint ? `; ${hint}` : ""}`;
    if (credentials && CREDENTIAL_CODES.test(code)) {
      line +=
        ` (in use: ${credentials}; 'clarifai login' renews a context, --context picks another)`;
    }
    return line;
  }
  if (summary.cancelled) {
    return `interrupted: ${plural(summary.uploaded, "input")} uploaded before the stop; ` +
      `the journal keeps the rest for the next run${
        resumeCommand ? `. To resume, run: ${resumeCommand}` : ""
      }`;
  }
  const verb = summary.dryRun ? "would upload" : "uploaded";
  const present = (summary as { present?: number }).present ?? 0;
  const failedProcessing = summary.processing?.failed ?? 0;
  if (summary.uploaded > 0) {
    const problems = [
      summary.failed ? plural(summary.failed, "failure") : "",
      summary.rejected ? `${plural(summary.rejected, "record")} rejected` : "",
      failedProcessing ? `${plural(failedProcessing, "input")} failed processing` : "",
      versionProblem(summary),
    ].filter(Boolean);
    return problems.length === 0
      ? `done: ${verb} ${plural(summary.uploaded, "input")}`
      : `done with problems: ${verb} ${plural(summary.uploaded, "input")}, ${
        problems.join(", ")
      } (listed above and in the journal)`;
  }
  // Nothing uploaded: say why.
  // Inputs found on the server whose processing failed (with --wait) come from no send.
  const heldFailed = failedProcessing
    ? `${plural(failedProcessing, "input")} on the server failed processing`
    : "";
  if (summary.failed || summary.rejected) {
    const why = [
      summary.failed ? `${plural(summary.failed, "input")} failed` : "",
      summary.rejected ? `${plural(summary.rejected, "record")} rejected` : "",
      heldFailed,
    ].filter(Boolean).join(" and ");
    return `nothing ${verb}: ${why} (the reasons are above${
      summary.journal ? " and in the journal" : ""
    })`;
  }
  if (summary.alreadyUploaded > 0 || present > 0 || failedProcessing > 0) {
    const parts = [
      summary.alreadyUploaded
        ? `${summary.skipped === 0 && present === 0 && !failedProcessing ? "all " : ""}${
          plural(summary.alreadyUploaded, "input")
        } were uploaded by an earlier run (see the journal)`
        : "",
      present ? `${plural(present, "input")} are on the server already` : "",
      heldFailed
        ? `${heldFailed} (listed above${summary.journal ? " and in the journal" : ""})`
        : "",
    ].filter(Boolean);
    return `nothing to upload: ${parts.join("; ")}`;
  }
  if (summary.skipped > 0) {
    const subfolders = skips.find((g) => g.kind === "subfolder");
    if (subfolders && subfolders.count === summary.skipped) {
      return `nothing ${verb}: the folder holds only subfolders (${subfolders.examples.join(", ")}${
        subfolders.count > subfolders.examples.length ? ", …" : ""
      }); add --recursive to upload their files${"" /* labels by folder name are the usual wish with class folders */} (with --labels to label them by folder name)`;
    }
    const reasons = skips.map((g) => `${g.count} ${g.reason}`).join("; ");
    return `nothing ${verb}: ${plural(summary.skipped, "file")} skipped (${reasons})${
      subfolders ? "; add --recursive to walk the subfolders" : ""
    }`;
  }
  if (notRetried > 0) {
    return `nothing ${verb}: ${
      plural(notRetried, "record")
    } cannot be retried (listed above): fix the source and run the original command again`;
  }
  return `nothing ${verb}: the source holds no inputs`;
}
