/**
 * {@linkcode uploadRequestOptions}: an upload request's options (query parameters or JSON
 * fields, snake_case) mapped onto the core's upload options schema, problems worded in the
 * parameters' names.
 *
 * @module
 */
import type { InputKind } from "../src/inputs/input_draft.ts";
import type { UploadOptions } from "../src/upload/upload.ts";
import {
  describeOptionProblem,
  parseUploadOptions,
  type RawUploadOptions,
  type UploadOptionName,
} from "../src/upload/upload_options.ts";
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
  /** Folder: glob patterns of files to keep, on paths relative to the folder. */
  include?: string[];
  /** Folder: glob patterns of files (and folders, ending in `/` or `**`) to skip. */
  exclude?: string[];
  /** User ID for the target (with a PAT). */
  userId?: string;
  /** App ID for the target (with a PAT). */
  appId?: string;
}

/** The upload option each parameter sets: the service's words for the options schema's names. */
const PARAMETERS: Readonly<Record<string, UploadOptionName>> = {
  dataset: "datasetId",
  create_dataset: "createDataset",
  create_version: "createVersion",
  batch_size: "batchSize",
  max_batch_mb: "maxBatchMegabytes",
  concurrency: "concurrency",
  rps: "rps",
  retries: "retries",
  dry_run: "dryRun",
  wait: "wait",
  user_id: "userId",
  app_id: "appId",
  input_type: "inputType",
  csv_type: "csvType",
  labels: "labels",
  recursive: "recursive",
  id_from: "idFrom",
  new_ids_for_duplicates: "newIdsForDuplicates",
  existing: "existing",
  no_digest: "noDigest",
  shard: "shard",
  include: "include",
  exclude: "exclude",
};

const COMMON = [
  "dataset",
  "create_dataset",
  "create_version",
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
  folder: [...COMMON, "input_type", "labels", "recursive", "id_from", "include", "exclude"],
  retry: [...COMMON, "new_ids_for_duplicates"],
};

function bad(message: string): ApiError {
  return new ApiError(400, "bad_request", message);
}

/**
 * Checks an upload request's options against the upload options schema. Unknown names are
 * refused (a typo must not be ignored), as are the engine options that belong to the server
 * (journal path, API base, transport, local data folder). Problems name the parameters.
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
 * assertThrows(() => uploadRequestOptions({ batch_size: "0" }, "csv"), Error, "batch_size must be");
 * ```
 */
export function uploadRequestOptions(
  params: Record<string, unknown>,
  kind: UploadRequestKind,
): UploadRequestOptions {
  const allowed = BY_KIND[kind];
  const raw: RawUploadOptions = {};
  const parameterOf = new Map<UploadOptionName, string>();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    if (!allowed.includes(name)) {
      throw bad(`Unknown option "${name}" for this upload: allowed are ${allowed.join(", ")}`);
    }
    // A folder's input_type names several kinds; a CSV's names the one kind of every row.
    const option = kind === "folder" && name === "input_type" ? "inputTypes" : PARAMETERS[name];
    parameterOf.set(option, name);
    raw[option] = value as string | number | boolean | string[];
  }
  if (kind === "csv") raw.inputType ??= "text";
  const parsed = parseUploadOptions(
    raw,
    (problem) =>
      bad(describeOptionProblem(problem, (name) => parameterOf.get(name) ?? PARAMETER_OF[name])),
  );
  const {
    inputType,
    inputTypes,
    csvType,
    labels,
    recursive,
    idFrom,
    newIdsForDuplicates,
    userId,
    appId,
    include,
    exclude,
    ...upload
  } = parsed;
  const result: UploadRequestOptions = { upload };
  if (userId !== undefined) result.userId = userId;
  if (appId !== undefined) result.appId = appId;
  if (kind === "csv") {
    result.inputType = inputType;
    result.csvType = csvType;
    result.labels = labels ?? true;
  }
  if (kind === "folder") {
    if (inputTypes !== undefined) result.kinds = inputTypes;
    result.labels = labels ?? false;
    result.recursive = recursive ?? false;
    if (include !== undefined) result.include = include;
    if (exclude !== undefined) result.exclude = exclude;
  }
  if ((kind === "folder" || kind === "multipart") && idFrom !== undefined) result.idFrom = idFrom;
  if (kind === "retry") result.newIdsForDuplicates = newIdsForDuplicates ?? false;
  return result;
}

/** The parameter of each option the schema may name in a problem. */
const PARAMETER_OF = Object.fromEntries(
  Object.entries(PARAMETERS).map(([parameter, name]) => [name, parameter]),
) as Record<UploadOptionName, string>;
