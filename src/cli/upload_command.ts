/**
 * The upload commands of the CLI (`folder`, `csv`, `retry`): option parsing shared by all three,
 * the default journal path, the run with its progress output, and the exit code.
 *
 * @module
 */
import { resolve } from "node:path";
import { createHash } from "node:crypto";
import type { ProgressEvent, UploadSummary } from "../pipeline/progress_event.ts";
import { ProgressPrinter, renderSummary } from "./progress_bar.ts";
import { readJournal } from "../journal/journal.ts";
import { retryDrafts } from "../journal/retry_drafts.ts";
import { parseInputKind } from "../inputs/validate.ts";
import { uploadCsv, uploadFolder, uploadInputs, type UploadOptions } from "../upload/upload.ts";
import { RetryPolicy } from "../clarifai/retry_policy.ts";
import { UsageError } from "./usage_error.ts";
import { parseCommandArgs } from "./parse_command_args.ts";

export { UsageError } from "./usage_error.ts";
export { parseCommandArgs } from "./parse_command_args.ts";

/** Exit codes of the CLI, by outcome class. */
export const ExitCode = {
  /** Every input uploaded (or would be, in a dry run). */
  Ok: 0,
  /** Some inputs were rejected or failed: the journal lists them. */
  SomeFailed: 1,
  /** Bad usage: unknown command or option, missing argument. */
  Usage: 2,
  /** A fatal outcome stopped the run (credentials, quota, missing dataset). */
  Fatal: 3,
  /** Interrupted (SIGINT). */
  Interrupted: 130,
} as const;

/** The options every upload command takes, for `parseArgs`. */
export const UPLOAD_OPTIONS = {
  dataset: { type: "string" },
  "create-dataset": { type: "boolean" },
  "batch-size": { type: "string" },
  "max-batch-mb": { type: "string" },
  concurrency: { type: "string" },
  rps: { type: "string" },
  retries: { type: "string" },
  "dry-run": { type: "boolean" },
  json: { type: "boolean" },
  journal: { type: "string" },
  wait: { type: "boolean" },
  base: { type: "string" },
  user: { type: "string" },
  app: { type: "string" },
  transport: { type: "string" },
  "local-data": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Help text for the options every upload command takes. */
export const UPLOAD_OPTIONS_HELP =
  `Target (default: Clarifai when CLARIFAI_PAT is set, else the embedded local API):
  --base URL             API base (CLARIFAI_GRPC_BASE); with no PAT, a local API started elsewhere
  --user ID, --app ID    user and app (CLARIFAI_USER_ID, CLARIFAI_APP_ID)
  --transport grpc|grpc-web   protocol (default grpc over HTTP/2)
  --local-data DIR       data folder of the embedded local API (default .upflow/local)
  The PAT is read from CLARIFAI_PAT only, never from a flag.

Upload:
  --dataset ID           dataset the inputs join
  --create-dataset       create the dataset when it does not exist
  --batch-size N         inputs per request, 1..128 (default 32)
  --max-batch-mb N       megabytes per request (default 32)
  --concurrency N        requests in flight (default 4)
  --rps N                requests per second at most (default 15; 0 = no limit)
  --retries N            attempts per request (default 5)
  --wait                 wait until the server has processed every input
  --dry-run              validate and batch, send nothing
  --journal FILE         journal path (default under .upflow/journals/, one per source)
  --json                 write the progress events as NDJSON to standard output
  -h, --help             this help`;

type UploadValues = {
  [K in keyof typeof UPLOAD_OPTIONS]?: (typeof UPLOAD_OPTIONS)[K]["type"] extends "boolean"
    ? boolean
    : string;
};

function integer(name: string, value: string | undefined, min: number, max: number) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}: got "${value}"`);
  }
  return n;
}

/**
 * Turns parsed upload flags into {@linkcode UploadOptions}.
 *
 * @param values The parsed flags.
 * @returns The options.
 * @throws {UsageError} When a value is out of range.
 *
 * @example Usage
 * ```ts
 * import { uploadOptionsFrom } from "./upload_command.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const options = uploadOptionsFrom({ "batch-size": "64", "dry-run": true });
 * assertEquals(options.batchSize, 64);
 * assertEquals(options.dryRun, true);
 * ```
 */
export function uploadOptionsFrom(values: UploadValues): UploadOptions {
  const transport = values.transport;
  if (transport !== undefined && transport !== "grpc" && transport !== "grpc-web") {
    throw new UsageError(`--transport must be grpc or grpc-web: got "${transport}"`);
  }
  const maxBatchMb = values["max-batch-mb"] === undefined
    ? undefined
    : Number(values["max-batch-mb"]);
  if (maxBatchMb !== undefined && !(maxBatchMb > 0 && maxBatchMb < 128)) {
    throw new UsageError(
      `--max-batch-mb must be a number above 0 and under 128: got "${values["max-batch-mb"]}"`,
    );
  }
  const retries = integer("retries", values.retries, 1, 100);
  return {
    datasetId: values.dataset,
    createDataset: values["create-dataset"],
    batchSize: integer("batch-size", values["batch-size"], 1, 128),
    maxBatchBytes: maxBatchMb === undefined ? undefined : Math.floor(maxBatchMb * 1024 * 1024),
    concurrency: integer("concurrency", values.concurrency, 1, 64),
    rps: integer("rps", values.rps, 0, 100_000),
    retry: retries === undefined ? undefined : new RetryPolicy({ maxAttempts: retries }),
    dryRun: values["dry-run"],
    wait: values.wait,
    journal: values.journal,
    base: values.base,
    userId: values.user,
    appId: values.app,
    transport,
    localDataDir: values["local-data"],
  };
}

/**
 * The default journal path of an upload: one per command, source, dataset and target, so that
 * running the same command again finds the same journal and resumes.
 *
 * @param command The command (`folder`, `csv`).
 * @param source The folder or file.
 * @param options The upload options (dataset and target take part).
 * @returns A path under `.upflow/journals/`.
 *
 * @example Usage
 * ```ts
 * import { defaultJournalPath } from "./upload_command.ts";
 * import { assertMatch } from "@std/assert";
 *
 * assertMatch(
 *   defaultJournalPath("folder", "samples/images", { datasetId: "demo" }),
 *   /^\.upflow\/journals\/folder-images-demo-[0-9a-f]{10}\.ndjson$/,
 * );
 * ```
 */
export function defaultJournalPath(
  command: string,
  source: string,
  options: UploadOptions,
): string {
  const key = JSON.stringify([
    command,
    resolve(source),
    options.datasetId ?? "",
    options.base ?? Deno.env.get("CLARIFAI_GRPC_BASE") ?? "",
    options.userId ?? Deno.env.get("CLARIFAI_USER_ID") ?? "",
    options.appId ?? Deno.env.get("CLARIFAI_APP_ID") ?? "",
    Deno.env.get("CLARIFAI_PAT") ? "clarifai" : "local",
  ]);
  const hash = createHash("sha256").update(key).digest("hex").slice(0, 10);
  const name = source.replace(/[/\\]+$/, "").split(/[/\\]/).pop() ?? "source";
  const slug = [name, options.datasetId].filter(Boolean).join("-")
    .replace(/[^A-Za-z0-9_-]+/g, "_").slice(0, 60);
  return `.upflow/journals/${command}-${slug}-${hash}.ndjson`;
}

/**
 * Runs an upload's events to the end: NDJSON to standard output with `json`, otherwise a
 * progress bar and lines on standard error and the summary table on standard output. Returns
 * the exit code.
 *
 * @param events The run's events.
 * @param json Write NDJSON instead of text.
 * @returns The exit code ({@linkcode ExitCode}).
 */
export async function reportRun(
  events: ReadableStream<ProgressEvent>,
  json: boolean,
): Promise<number> {
  const encoder = new TextEncoder();
  const out = (text: string) => Deno.stdout.writeSync(encoder.encode(text));
  const printer = new ProgressPrinter();
  let summary: UploadSummary | undefined;
  for await (const event of events) {
    if (json) out(JSON.stringify(event) + "\n");
    else printer.print(event);
    if (event.type === "done") summary = event.summary;
  }
  if (!summary) return ExitCode.Fatal;
  if (!json) out(renderSummary(summary));
  return exitCodeOf(summary);
}

/**
 * The exit code for a summary: 3 fatal, 130 cancelled, 1 some rejected or failed, else 0.
 *
 * @param summary The run's summary.
 * @returns The exit code.
 *
 * @example Usage
 * ```ts
 * import { exitCodeOf } from "./upload_command.ts";
 * import { zeroCounts } from "../pipeline/progress_event.ts";
 * import { assertEquals } from "@std/assert";
 *
 * const base = {
 *   ...zeroCounts(), runId: "r", dryRun: false, batches: 1, bytes: 1, durationMs: 1,
 *   inputsPerSecond: 1, megabytesPerSecond: 1,
 * };
 * assertEquals(exitCodeOf({ ...base, uploaded: 3 }), 0);
 * assertEquals(exitCodeOf({ ...base, uploaded: 3, rejected: 1 }), 1);
 * assertEquals(exitCodeOf({ ...base, fatal: { code: "CONN_KEY_INVALID", message: "bad key" } }), 3);
 * ```
 */
export function exitCodeOf(summary: UploadSummary): number {
  if (summary.fatal) return ExitCode.Fatal;
  if (summary.cancelled) return ExitCode.Interrupted;
  if (summary.failed > 0 || summary.rejected > 0 || (summary.processing?.failed ?? 0) > 0) {
    return ExitCode.SomeFailed;
  }
  return ExitCode.Ok;
}

function interruptible(options: UploadOptions): UploadOptions & { signal: AbortSignal } {
  const abort = new AbortController();
  const onSignal = () => {
    Deno.stderr.writeSync(new TextEncoder().encode("\nstopping: finishing the journal…\n"));
    abort.abort(new Error("interrupted"));
  };
  try {
    Deno.addSignalListener("SIGINT", onSignal);
  } catch {
    // Not a platform with signals: Ctrl-C ends the process as usual.
  }
  return { ...options, signal: abort.signal };
}

/** Help of the `folder` command. */
export const FOLDER_HELP = `upflow folder PATH [options]

Uploads the images, text, video and audio files of a folder.

Folder:
  --recursive            walk subfolders too
  --labels               label each input with its folder's name
  --input-type KINDS     only these kinds, comma-separated: image,text,video,audio (default all)
  --id-from stem|path    input IDs from file stems (default) or relative paths

${UPLOAD_OPTIONS_HELP}`;

/** Help of the `csv` command. */
export const CSV_HELP = `upflow csv FILE [options]

Uploads a CSV in Clarifai's format: headers from inputid,input,concepts,metadata,geopoints.

CSV:
  --input-type KIND      image|text|video|audio (default text)
  --csv-type TYPE        url|file_path|raw (default raw for text, url otherwise)
  --no-labels            do not require or read the concepts column
  --root DIR             file paths must stay inside DIR (default the CSV's folder)

${UPLOAD_OPTIONS_HELP}`;

/** Help of the `retry` command. */
export const RETRY_HELP = `upflow retry JOURNAL [options]

Re-sends exactly the inputs that failed in the journal's runs, by ID and location, and appends
the outcomes to the same journal. Records refused by validation are listed: fix the source and
run the original command again (inputs already uploaded are skipped).

Retry:
  --new-ids-for-duplicates   re-send inputs refused as duplicates under fresh IDs

${UPLOAD_OPTIONS_HELP}`;

/**
 * Runs `upflow folder`.
 *
 * @param args The arguments after the command.
 * @returns The exit code.
 */
export async function folderCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    ...UPLOAD_OPTIONS,
    recursive: { type: "boolean" },
    labels: { type: "boolean" },
    "input-type": { type: "string" },
    "id-from": { type: "string" },
  });
  if (values.help) {
    console.log(FOLDER_HELP);
    return ExitCode.Ok;
  }
  if (positionals.length !== 1) throw new UsageError("folder takes one PATH");
  const [path] = positionals;
  const idFrom = values["id-from"];
  if (idFrom !== undefined && idFrom !== "stem" && idFrom !== "path") {
    throw new UsageError(`--id-from must be stem or path: got "${idFrom}"`);
  }
  let inputTypes;
  try {
    inputTypes = values["input-type"]?.split(",").map((k) => parseInputKind(k.trim()));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const options = uploadOptionsFrom(values);
  options.journal ??= defaultJournalPath("folder", path, options);
  return await reportRun(
    uploadFolder(path, {
      ...interruptible(options),
      recursive: values.recursive,
      labels: values.labels,
      inputTypes,
      idFrom,
    }),
    values.json ?? false,
  );
}

/**
 * Runs `upflow csv`.
 *
 * @param args The arguments after the command.
 * @returns The exit code.
 */
export async function csvCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    ...UPLOAD_OPTIONS,
    "input-type": { type: "string" },
    "csv-type": { type: "string" },
    "no-labels": { type: "boolean" },
    labels: { type: "boolean" },
    root: { type: "string" },
  });
  if (values.help) {
    console.log(CSV_HELP);
    return ExitCode.Ok;
  }
  if (positionals.length !== 1) throw new UsageError("csv takes one FILE");
  const [path] = positionals;
  let inputType;
  try {
    inputType = parseInputKind(values["input-type"] ?? "text");
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const csvType = values["csv-type"] ?? (inputType === "text" ? "raw" : "url");
  if (csvType !== "url" && csvType !== "file_path" && csvType !== "raw") {
    throw new UsageError(`--csv-type must be url, file_path or raw: got "${csvType}"`);
  }
  if (csvType === "raw" && inputType !== "text") {
    throw new UsageError("--csv-type raw works only with --input-type text");
  }
  const options = uploadOptionsFrom(values);
  options.journal ??= defaultJournalPath("csv", path, options);
  return await reportRun(
    uploadCsv(path, {
      ...interruptible(options),
      inputType,
      csvType,
      labels: !values["no-labels"],
      ...(values.root ? { root: values.root } : {}),
    }),
    values.json ?? false,
  );
}

/**
 * Runs `upflow retry`.
 *
 * @param args The arguments after the command.
 * @returns The exit code.
 */
export async function retryCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    ...UPLOAD_OPTIONS,
    "new-ids-for-duplicates": { type: "boolean" },
  });
  if (values.help) {
    console.log(RETRY_HELP);
    return ExitCode.Ok;
  }
  if (positionals.length !== 1) throw new UsageError("retry takes one JOURNAL");
  const [path] = positionals;
  try {
    await Deno.stat(path);
  } catch {
    throw new UsageError(`no journal at ${path}`);
  }
  const plan = retryDrafts(await readJournal(path), {
    newIdsForDuplicates: values["new-ids-for-duplicates"],
  });
  const drafts = plan.drafts;
  const notRetryable = plan.notRetried.map((n) => `${n.location}: ${n.reason}`);
  const encoder = new TextEncoder();
  for (const line of notRetryable) {
    Deno.stderr.writeSync(encoder.encode(`${line}\n`));
  }
  const options = uploadOptionsFrom(values);
  options.journal ??= path;
  const code = await reportRun(
    uploadInputs(drafts, interruptible(options), `retry ${path}`),
    values.json ?? false,
  );
  return code === ExitCode.Ok && notRetryable.length > 0 ? ExitCode.SomeFailed : code;
}
