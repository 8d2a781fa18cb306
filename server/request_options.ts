/**
 * {@linkcode uploadRequestOptions}: an upload request's options (query parameters or JSON
 * fields, snake_case) turned into the engine's options, with the CLI's rules and ranges.
 *
 * @module
 */
import type { InputKind } from "../src/inputs/input_draft.ts";
import { parseInputKind } from "../src/inputs/validate.ts";
import { uploadOptionsFrom } from "../src/cli/upload_command.ts";
import type { UploadOptions } from "../src/upload/upload.ts";
import { ApiError } from "./api_error.ts";

/** Which request an option set belongs to (each takes its own options besides the common). */
export type UploadRequestKind = "csv" | "multipart" | "folder" | "retry";

/** An upload request's options, checked. */
export interface UploadRequestOptions {
  /** The engine's options (dataset, batching, limits, dry run, wait). */
  upload: UploadOptions;
  /** CSV: the inputs' kind (default text). Folder: the kinds to upload (`kinds`). */
  inputType?: InputKind;
  /** Folder: the kinds to upload (default all). */
  kinds?: InputKind[];
  /** CSV: url, file_path or raw. */
  csvType?: "url" | "file_path" | "raw";
  /** CSV: read the concepts column (default true). Folder: label by folder name (default false). */
  labels?: boolean;
  /** Folder: walk subfolders. */
  recursive?: boolean;
  /** Folder: IDs from file stems or relative paths. */
  idFrom?: "stem" | "path";
  /** Retry: re-send duplicates under fresh IDs. */
  newIdsForDuplicates?: boolean;
  /** User ID for the target (with a PAT). */
  userId?: string;
  /** App ID for the target (with a PAT). */
  appId?: string;
}

const COMMON = [
  "dataset",
  "create_dataset",
  "batch_size",
  "max_batch_mb",
  "concurrency",
  "rps",
  "retries",
  "dry_run",
  "wait",
  "user_id",
  "app_id",
  "existing",
  "no_digest",
  "shard",
];

const BY_KIND: Record<UploadRequestKind, string[]> = {
  csv: [...COMMON, "input_type", "csv_type", "labels"],
  multipart: [...COMMON, "id_from"],
  folder: [...COMMON, "input_type", "labels", "recursive", "id_from"],
  retry: [...COMMON, "new_ids_for_duplicates"],
};

const BOOLEANS = new Set([
  "create_dataset",
  "dry_run",
  "wait",
  "labels",
  "recursive",
  "new_ids_for_duplicates",
  "no_digest",
]);

function bad(message: string): ApiError {
  return new ApiError(400, "bad_request", message);
}

function asBoolean(name: string, value: unknown): boolean {
  if (typeof value === "boolean") return value;
  if (value === "" || value === "true" || value === "1" || value === "yes") return true;
  if (value === "false" || value === "0" || value === "no") return false;
  throw bad(`${name} must be true or false: got ${JSON.stringify(value)}`);
}

function asString(name: string, value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  throw bad(`${name} must be a string or number: got ${JSON.stringify(value)}`);
}

/**
 * Checks an upload request's options. Unknown names are refused (a typo must not be ignored),
 * as are the engine options that belong to the server (journal path, API base, transport,
 * local data folder). Numeric ranges are the CLI's.
 *
 * @param params The options: query parameters (strings) or JSON fields, snake_case.
 * @param kind Which request they come with.
 * @returns The checked options.
 * @throws {ApiError} 400 `bad_request` with the first problem found.
 *
 * @example Usage
 * ```ts
 * import { uploadRequestOptions } from "./request_options.ts";
 * import { assertEquals, assertThrows } from "@std/assert";
 *
 * const options = uploadRequestOptions({ dataset: "reviews", batch_size: "64", dry_run: "" }, "csv");
 * assertEquals(options.upload.batchSize, 64);
 * assertEquals(options.upload.dryRun, true);
 * assertEquals(options.inputType, "text");
 * assertEquals(options.csvType, "raw");
 * assertThrows(() => uploadRequestOptions({ journal: "/etc/x" }, "csv"));
 * ```
 */
export function uploadRequestOptions(
  params: Record<string, unknown>,
  kind: UploadRequestKind,
): UploadRequestOptions {
  const allowed = BY_KIND[kind];
  const values: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    if (!allowed.includes(name)) {
      throw bad(`Unknown option "${name}" for this upload: allowed are ${allowed.join(", ")}`);
    }
    values[name] = BOOLEANS.has(name) ? asBoolean(name, value) : asString(name, value);
  }
  let upload: UploadOptions;
  try {
    upload = uploadOptionsFrom({
      dataset: values.dataset as string | undefined,
      "create-dataset": values.create_dataset as boolean | undefined,
      "batch-size": values.batch_size as string | undefined,
      "max-batch-mb": values.max_batch_mb as string | undefined,
      concurrency: values.concurrency as string | undefined,
      rps: values.rps as string | undefined,
      retries: values.retries as string | undefined,
      "dry-run": values.dry_run as boolean | undefined,
      wait: values.wait as boolean | undefined,
      existing: values.existing as string | undefined,
      "no-digest": values.no_digest as boolean | undefined,
      shard: values.shard as string | undefined,
    });
  } catch (err) {
    throw bad(
      (err as Error).message.replace(
        /--([a-z-]+)/g,
        (_, flag: string) => flag.replaceAll("-", "_"),
      ),
    );
  }
  for (const key of Object.keys(upload) as (keyof UploadOptions)[]) {
    if (upload[key] === undefined) delete upload[key];
  }
  const result: UploadRequestOptions = { upload };
  const userId = values.user_id as string | undefined;
  const appId = values.app_id as string | undefined;
  if (userId !== undefined) result.userId = userId;
  if (appId !== undefined) result.appId = appId;
  if (kind === "csv") {
    try {
      result.inputType = parseInputKind((values.input_type as string | undefined) ?? "text");
    } catch (err) {
      throw bad((err as Error).message);
    }
    const csvType = (values.csv_type as string | undefined) ??
      (result.inputType === "text" ? "raw" : "url");
    if (csvType !== "url" && csvType !== "file_path" && csvType !== "raw") {
      throw bad(`csv_type must be url, file_path or raw: got "${csvType}"`);
    }
    if (csvType === "raw" && result.inputType !== "text") {
      throw bad("csv_type raw works only with input_type text");
    }
    result.csvType = csvType;
    result.labels = (values.labels as boolean | undefined) ?? true;
  }
  if (kind === "folder") {
    if (values.input_type !== undefined) {
      try {
        result.kinds = (values.input_type as string).split(",").map((k) =>
          parseInputKind(k.trim())
        );
      } catch (err) {
        throw bad((err as Error).message);
      }
    }
    result.labels = (values.labels as boolean | undefined) ?? false;
    result.recursive = (values.recursive as boolean | undefined) ?? false;
  }
  if (kind === "folder" || kind === "multipart") {
    const idFrom = values.id_from as string | undefined;
    if (idFrom !== undefined && idFrom !== "stem" && idFrom !== "path") {
      throw bad(`id_from must be stem or path: got "${idFrom}"`);
    }
    if (idFrom !== undefined) result.idFrom = idFrom;
  }
  if (kind === "retry") {
    result.newIdsForDuplicates = (values.new_ids_for_duplicates as boolean | undefined) ?? false;
  }
  return result;
}
