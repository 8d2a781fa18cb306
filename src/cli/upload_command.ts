/**
 * The upload commands of the CLI (`folder`, `csv`, `retry`): option parsing shared by all three,
 * the default journal path, the run with its progress output, and the exit code.
 *
 * @module
 */
import { resolve } from "node:path";
import { createHash } from "node:crypto";
import { readJournal } from "../journal/journal.ts";
import { retryDrafts } from "../journal/retry_drafts.ts";
import { uploadCsv, uploadFolder, uploadInputs, type UploadOptions } from "../upload/upload.ts";
import {
  describeOptionProblem,
  type ParsedUploadOptions,
  parseUploadOptions,
  type RawUploadOptions,
  type UploadOptionName,
} from "../upload/upload_options.ts";
import { localTarget } from "../../server/local_target.ts";
import { UsageError } from "./usage_error.ts";
import { ExitCode } from "./exit_code.ts";
import { parseCommandArgs } from "./parse_command_args.ts";
import { RUN_OPTIONS, RUN_OPTIONS_HELP, runWithReport } from "./run_setup.ts";
import type { EnvReader } from "../clarifai/client.ts";
import { isS3Url } from "../sources/s3/s3_url.ts";
import { uploadS3Folder } from "../sources/s3/upload_s3_folder.ts";
import { uploadS3Csv } from "../sources/s3/upload_s3_csv.ts";
import { s3ObjectOpener } from "../sources/s3/s3_object_opener.ts";
import {
  checkS3Address,
  refuseS3Flags,
  S3_FLAGS,
  S3_FLAGS_HELP,
  type S3FlagValues,
  s3SettingsFrom,
} from "./s3_flags.ts";

export { UsageError } from "./usage_error.ts";
export { ExitCode, exitCodeOf } from "./exit_code.ts";
export { reportRun } from "./report_run.ts";
export { parseCommandArgs } from "./parse_command_args.ts";

/** The options every upload command takes, for `parseArgs`. */
export const UPLOAD_OPTIONS = {
  dataset: { type: "string" },
  "create-dataset": { type: "boolean" },
  "create-version": { type: "boolean" },
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
  shard: { type: "string" },
  existing: { type: "string" },
  "no-digest": { type: "boolean" },
  help: { type: "boolean", short: "h" },
  ...RUN_OPTIONS,
} as const;

/** Help text for the options every upload command takes. */
export const UPLOAD_OPTIONS_HELP =
  `Target (default: Clarifai when CLARIFAI_PAT is set, else the embedded local API):
  --base URL             API base (CLARIFAI_GRPC_BASE); with no PAT, a local API started elsewhere
  --user ID, --app ID    user and app (CLARIFAI_USER_ID, CLARIFAI_APP_ID)
  --transport grpc|grpc-web   protocol (default grpc over HTTP/2)
  --local-data DIR       data folder of the embedded local API (default .upflow/local)
  Credentials: flags, then CLARIFAI_* variables, then the active context of Clarifai's CLI
  config (~/.config/clarifai/config, from 'clarifai login'; --context NAME picks another), then
  the embedded local API. The PAT is never read from a flag and never printed.

Upload:
  --dataset ID           dataset the inputs join
  --create-dataset       create the dataset when it does not exist
  --create-version       when the upload ends, make a version of the dataset, wait until it is
                         ready and show its metrics (inputs by kind, annotations, concepts)
  --batch-size N         inputs per request, 1..128 (default 32)
  --max-batch-mb N       megabytes per request (default 32)
  --concurrency N        requests in flight (default 4)
  --rps N                requests per second at most (default 15; 0 = no limit)
  --retries N            attempts per request (default 5)
  --wait                 wait until the server has processed every input
  --dry-run              validate and batch, send nothing
  --journal FILE         journal path (default under .upflow/journals/, one per source)
  --existing skip|fail|new-id  inputs the server holds already (checked before their bytes are
                         read): skip them as present (default; a different content under the
                         ID is a conflict), fail them, or upload them under a new ID
  --no-digest            do not record the content digest (metadata "upflow.sha256")
  --shard K/N            upload only shard K (0..N-1) of N, by a stable hash of the input ID
  --json                 write the progress events as NDJSON to standard output
  -h, --help             this help

${RUN_OPTIONS_HELP}`;

type UploadValues = {
  [K in keyof typeof UPLOAD_OPTIONS]?: (typeof UPLOAD_OPTIONS)[K]["type"] extends "boolean"
    ? boolean
    : string;
};

/** The upload option each flag sets: the CLI's words for the names of the options schema. */
export const FLAG_OPTIONS: Readonly<Record<string, UploadOptionName>> = {
  dataset: "datasetId",
  "create-dataset": "createDataset",
  "create-version": "createVersion",
  "batch-size": "batchSize",
  "max-batch-mb": "maxBatchMegabytes",
  concurrency: "concurrency",
  rps: "rps",
  retries: "retries",
  "dry-run": "dryRun",
  wait: "wait",
  journal: "journal",
  base: "base",
  user: "userId",
  app: "appId",
  transport: "transport",
  shard: "shard",
  existing: "existing",
  "no-digest": "noDigest",
  recursive: "recursive",
  labels: "labels",
  "id-from": "idFrom",
  "input-type": "inputTypes",
  "csv-type": "csvType",
  "new-ids-for-duplicates": "newIdsForDuplicates",
  include: "include",
  exclude: "exclude",
};

/**
 * Turns parsed flags into upload options through the options schema
 * ({@linkcode parseUploadOptions}), with the embedded local API (`--local-data`) as the target
 * when no PAT is set. Problems are worded with the flags' names.
 *
 * @param values The parsed flags (flags the schema does not know are left alone).
 * @param flags Which option each flag sets (default {@linkcode FLAG_OPTIONS}; a command may map
 * a flag its own way, as `csv` maps `--input-type` to the one `inputType`).
 * @returns The options.
 * @throws {UsageError} When a value breaks its option's rule, or flags make no sense together.
 *
 * @example Usage
 * ```ts
 * import { uploadOptionsFrom } from "./upload_command.ts";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * const options = uploadOptionsFrom({ "batch-size": "64", "dry-run": true, shard: "1/4" });
 * assertEquals(options.batchSize, 64);
 * assertEquals(options.dryRun, true);
 * assertEquals(options.shard, { index: 1, count: 4 });
 * assertThrows(
 *   () => uploadOptionsFrom({ "batch-size": "0" }),
 *   Error,
 *   '--batch-size must be an integer from 1 to 128: got "0"',
 * );
 * ```
 */
export function uploadOptionsFrom(
  values: UploadValues & Record<string, string | boolean | string[] | undefined>,
  flags: Readonly<Record<string, UploadOptionName>> = FLAG_OPTIONS,
): ParsedUploadOptions {
  if (values["create-dataset"] && values.dataset === undefined) {
    throw new UsageError("--create-dataset needs --dataset ID: which dataset should it create?");
  }
  if (values.wait && values["dry-run"]) {
    throw new UsageError(
      "--wait makes no sense with --dry-run: nothing is sent, so nothing to wait for",
    );
  }
  const raw: RawUploadOptions = {};
  const flagOf = new Map<UploadOptionName, string>();
  for (const [flag, name] of Object.entries(flags)) {
    flagOf.set(name, flag);
    const value = values[flag];
    if (value !== undefined) raw[name] = value;
  }
  const options = parseUploadOptions(
    raw,
    (problem) =>
      new UsageError(describeOptionProblem(problem, (name) => `--${flagOf.get(name) ?? name}`)),
  );
  options.local = localTarget({ dataDir: values["local-data"] as string | undefined });
  return options;
}

/**
 * The default journal path of an upload: one per command, source, dataset and target, so that
 * running the same command again finds the same journal and resumes.
 *
 * @param command The command (`folder`, `csv`).
 * @param source The folder or file.
 * @param options The upload options (dataset and target take part).
 * @param env Where the `CLARIFAI_*` settings in use are read (default `Deno.env`).
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
  env: EnvReader = Deno.env,
): string {
  const key = JSON.stringify([
    command,
    isS3Url(source) ? source : resolve(source),
    options.datasetId ?? "",
    options.base ?? env.get("CLARIFAI_GRPC_BASE") ?? "",
    options.userId ?? env.get("CLARIFAI_USER_ID") ?? "",
    options.appId ?? env.get("CLARIFAI_APP_ID") ?? "",
    env.get("CLARIFAI_PAT") ? "clarifai" : "local",
  ]);
  const hash = createHash("sha256").update(key).digest("hex").slice(0, 10);
  const name = source.replace(/[/\\]+$/, "").split(/[/\\]/).pop() ?? "source";
  const slug = [name, options.datasetId].filter(Boolean).join("-")
    .replace(/[^A-Za-z0-9_-]+/g, "_").slice(0, 60);
  // Each shard has its own journal.
  const shard = options.shard && options.shard.count > 1
    ? `-shard${options.shard.index}of${options.shard.count}`
    : "";
  return `.upflow/journals/${command}-${slug}-${hash}${shard}.ndjson`;
}

/** Runs `check`, turning the RangeError it throws about a flag into a usage error. */
function usage<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(error.message);
    throw error;
  }
}

/** Help of the `folder` command. */
export const FOLDER_HELP = `upflow folder PATH [options]

Uploads the images, text, video and audio files of a folder, or of a bucket prefix
(s3://bucket/prefix: its "subfolders" are folders; --include/--exclude match keys under it).

Folder:
  --recursive            walk subfolders too
  --labels               label each input with its folder's name
  --input-type KINDS     only these kinds, comma-separated: image,text,video,audio (default all)
  --id-from stem|path    input IDs from file stems (default) or relative paths
  --include GLOB         upload only files matching GLOB (repeatable; matched on the path
                         relative to PATH as rclone does: *.jpg, cats/**, /top-level.png)
  --exclude GLOB         skip files matching GLOB, and folders ending in / or ** (repeatable;
                         an exclusion wins over an inclusion)

${S3_FLAGS_HELP}

${UPLOAD_OPTIONS_HELP}`;

/** Help of the `csv` command. */
export const CSV_HELP = `upflow csv FILE [options]

Uploads a CSV in Clarifai's format: headers from inputid,input,concepts,metadata,geopoints.
FILE may be in a bucket (s3://bucket/data.csv): its file paths are then keys beside it.

CSV:
  --input-type KIND      image|text|video|audio (default text)
  --csv-type TYPE        url|file_path|raw (default raw for text, url otherwise)
  --no-labels            do not require or read the concepts column
  --root DIR             file paths must stay inside DIR (default the CSV's folder)

${S3_FLAGS_HELP}

${UPLOAD_OPTIONS_HELP}`;

/** Help of the `retry` command. */
export const RETRY_HELP = `upflow retry JOURNAL [options]

Re-sends exactly the inputs that failed in the journal's runs, by ID and location, and appends
the outcomes to the same journal. Records refused by validation are listed: fix the source and
run the original command again (inputs already uploaded are skipped).

Retry:
  --new-ids-for-duplicates   re-send inputs refused as duplicates under fresh IDs
  Inputs read from a bucket are read again with this run's AWS variables and S3 flags.

${S3_FLAGS_HELP}

${UPLOAD_OPTIONS_HELP}`;

/** The S3 flags of a command whose source is in a bucket, for the bucket uploaders. */
function s3UploadOptions(values: S3FlagValues, options: ParsedUploadOptions) {
  const s3 = usage(() => s3SettingsFrom(values, Deno.env, options.retry));
  return { s3: s3.client, via: s3.via, urlExpiresSeconds: s3.urlExpiresSeconds };
}

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
    include: { type: "string", multiple: true },
    exclude: { type: "string", multiple: true },
    ...S3_FLAGS,
  });
  if (values.help) {
    console.log(FOLDER_HELP);
    return ExitCode.Ok;
  }
  if (positionals.length !== 1) throw new UsageError("folder takes one PATH");
  const [path] = positionals;
  const options = uploadOptionsFrom(values);
  const { recursive, labels, inputTypes, idFrom, include, exclude } = options;
  const walk = { recursive, labels, inputTypes, idFrom, include, exclude };
  const inBucket = isS3Url(path);
  if (inBucket) usage(() => checkS3Address(path));
  else usage(() => refuseS3Flags(values));
  const s3 = inBucket ? s3UploadOptions(values, options) : undefined;
  return await runWithReport(
    "folder",
    args,
    values,
    options,
    (env) => defaultJournalPath("folder", path, options, env),
    (final) =>
      s3
        ? uploadS3Folder(path, { ...final, ...s3, ...walk })
        : uploadFolder(path, { ...final, ...walk }),
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
    ...S3_FLAGS,
  });
  if (values.help) {
    console.log(CSV_HELP);
    return ExitCode.Ok;
  }
  if (positionals.length !== 1) throw new UsageError("csv takes one FILE");
  const [path] = positionals;
  const options = uploadOptionsFrom(
    { ...values, "input-type": values["input-type"] ?? "text", labels: !values["no-labels"] },
    { ...FLAG_OPTIONS, "input-type": "inputType" },
  );
  const { inputType, csvType, labels } = options;
  const inBucket = isS3Url(path);
  if (inBucket && values.root !== undefined) {
    throw new UsageError(
      "--root is for CSV files on disk: file paths of a CSV in a bucket are keys beside it",
    );
  }
  if (inBucket) usage(() => checkS3Address(path));
  else usage(() => refuseS3Flags(values));
  const s3 = inBucket ? s3UploadOptions(values, options) : undefined;
  const root = values.root ? { root: values.root } : {};
  return await runWithReport(
    "csv",
    args,
    values,
    options,
    (env) => defaultJournalPath("csv", path, options, env),
    (final) =>
      s3
        ? uploadS3Csv(path, { ...final, ...s3, inputType, csvType, labels })
        : uploadCsv(path, { ...final, inputType, csvType, labels, ...root }),
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
    ...S3_FLAGS,
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
  const options = uploadOptionsFrom(values);
  let notRetried: string[] = [];
  const code = await runWithReport(
    "retry",
    args,
    values,
    options,
    () => path,
    async (final) => {
      // Read under the journal's lock: no other run appends while the plan is made.
      const plan = retryDrafts(await readJournal(path), {
        newIdsForDuplicates: options.newIdsForDuplicates,
      });
      // What cannot be re-sent is listed after the first line (not journaled again: the
      // journal keeps each failure's draft for a later retry with other options).
      notRetried = plan.notRetried.map((n) => `${n.location}: ${n.reason}`);
      if (plan.drafts.some((d) => d.content.type === "object")) {
        // Failures read from a bucket: read again with the AWS credentials of this run.
        const s3 = s3UploadOptions(values, options);
        final = { ...final, openObject: s3ObjectOpener(s3.s3, s3) };
      }
      return uploadInputs(plan.drafts, final, `retry ${path}`);
    },
    () => notRetried,
  );
  return code === ExitCode.Ok && notRetried.length > 0 ? ExitCode.SomeFailed : code;
}
