/**
 * upflow uploads folders and CSV files of images, text, video and audio into Clarifai datasets,
 * through composable WHATWG streams: read → parse → validate → load → byte-bounded batching →
 * upload → progress. Uploads go to Clarifai (a PAT from the options or `CLARIFAI_PAT`), to any
 * Clarifai-compatible base URL, or, with `local: localTarget()` from `@upflow/upflow/local`, to an
 * embedded local API. This entry loads no HTTP server and no local API: those are
 * `@upflow/upflow/server` and `@upflow/upflow/local`; the command line is `@upflow/upflow/cli`.
 *
 * The one-call helpers ({@linkcode uploadFolder}, {@linkcode uploadCsv},
 * {@linkcode uploadInputs}, {@linkcode uploadCoco}, …) return a stream of progress events whose
 * last event is the summary; {@linkcode summaryOf} reads it to the end. The stages they are
 * made of ({@linkcode folderSource}, {@linkcode csvSource}, {@linkcode LoadStream},
 * {@linkcode BatchStream}, {@linkcode UploadStream}, …) compose into pipelines of your own.
 *
 * @example Dry-run the sample folder
 * ```ts
 * import { summaryOf, uploadFolder } from "@upflow/upflow";
 * import { assertEquals } from "@std/assert";
 *
 * const summary = await summaryOf(
 *   uploadFolder("samples/images", { recursive: true, labels: true, dryRun: true }),
 * );
 * assertEquals(summary.uploaded, 12);
 * ```
 *
 * @module
 */

// Drafts: what sources yield and stages pass on
export {
  type BoxDraft,
  type ContentSource,
  type DraftOrRejection,
  type FrameDraft,
  type GeoPointDraft,
  INPUT_KINDS,
  type InputDraft,
  type InputKind,
  isDraft,
  type JsonObject,
  type JsonValue,
  type ObjectContent,
  type PointDraft,
  type RegionDraft,
  type Rejection,
  type Skip,
} from "./src/inputs/input_draft.ts";
export { cleanId, MAX_ID_LENGTH } from "./src/inputs/ids.ts";
export { MAX_BYTES_BY_KIND } from "./src/inputs/validate.ts";
export {
  boxFromCenter,
  boxFromPixels,
  type ImageSize,
  pointsFromPixels,
} from "./src/inputs/regions.ts";
export {
  type ValidatedDraft,
  validateDraft,
  type ValidateDraftOptions,
} from "./src/inputs/validate_draft.ts";
export { UniqueIdsStream, type UniqueIdsStreamOptions } from "./src/inputs/unique_ids_stream.ts";
export { parseShard, type Shard, ShardStream } from "./src/inputs/shard.ts";
export type { FailureStage } from "./src/inputs/failure_stage.ts";

// Sources
export {
  CsvParseStream,
  type CsvParseStreamOptions,
  type CsvRow,
  CsvRowStream,
  DEFAULT_MAX_RECORD_LENGTH,
} from "./src/sources/csv_parse_stream.ts";
export {
  CSV_COLUMNS,
  CSV_TYPES,
  csvSource,
  type CsvSourceOptions,
  type CsvType,
  resolveCsvType,
} from "./src/sources/csv_source.ts";
export {
  countFolder,
  type FolderCount,
  folderSource,
  type FolderSourceOptions,
  kindOfExtension,
} from "./src/sources/folder_source.ts";
export { type CocoShapes, cocoSource, type CocoSourceOptions } from "./src/sources/coco_source.ts";
export { yoloSource, type YoloSourceOptions } from "./src/sources/yolo_source.ts";
export { vocSource, type VocSourceOptions } from "./src/sources/voc_source.ts";

// Pipeline stages
export {
  type ExistingPolicy,
  PresenceStream,
  type PresenceStreamOptions,
} from "./src/pipeline/presence_stream.ts";
export { DigestStream } from "./src/pipeline/digest_stream.ts";
export { ByteBudget, defaultByteBudget } from "./src/pipeline/byte_budget.ts";
export { isLoaded, type LoadedInput, type LoadedItem } from "./src/pipeline/loaded_input.ts";
export {
  type FileStat,
  LoadStream,
  type LoadStreamOptions,
  type ObjectOpener,
} from "./src/pipeline/load_stream.ts";
export {
  type Batch,
  type BatchItem,
  BatchStream,
  type BatchStreamOptions,
  DEFAULT_MAX_BATCH_BYTES,
} from "./src/pipeline/batch_stream.ts";
export {
  type UploadRetryInfo,
  UploadStream,
  type UploadStreamOptions,
} from "./src/pipeline/upload_stream.ts";
export {
  type HeldInput,
  type ProcessingState,
  processingState,
  type ProcessingWaitOptions,
  ProcessingWaitStream,
} from "./src/pipeline/processing_wait_stream.ts";

// Progress events and the summary
export {
  type BatchEvent,
  type DatasetVersionConcept,
  type DatasetVersionMetrics,
  type DatasetVersionResult,
  type DoneEvent,
  type FailedEvent,
  type ProcessingEvent,
  type ProgressCountsEvent,
  type ProgressEvent,
  type RejectedEvent,
  type SkippedEvent,
  type StartEvent,
  summaryOf,
  type UploadCounts,
  type UploadSummary,
  type VersionEvent,
} from "./src/pipeline/progress_event.ts";

// The journal: resume and retry
export {
  Journal,
  type JournalEntry,
  type JournalInputEntry,
  type JournalRunEntry,
  type JournalSendingEntry,
  type JournalState,
  readJournal,
} from "./src/journal/journal.ts";
export type { JournalIndex } from "./src/journal/journal_index.ts";
export { retryDrafts, type RetryPlan } from "./src/journal/retry_drafts.ts";

// The Clarifai client, its retries and its errors
export {
  CLARIFAI_API_BASE,
  CLARIFAI_GRPC_WEB_BASE,
  type ClarifaiClient,
  type ClarifaiClientOptions,
  clarifaiOptionsFromEnv,
  type ClarifaiTransportKind,
  type ClarifaiTransportSettings,
  createClarifaiClient,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_TIMEOUT_MS,
  type EnvReader,
} from "./src/clarifai/client.ts";
export type {
  ClarifaiInput,
  ClarifaiUserAppId,
  ConnectInterceptor,
  ConnectTransport,
  V2Client,
} from "./src/clarifai/api_types.ts";
export { FatalUploadError, type FatalUploadErrorOptions } from "./src/clarifai/errors.ts";
export { StatusCode } from "./src/gen/clarifai/api/status/status_code_pb.ts";
export type { StatusLike } from "./src/clarifai/status_codes.ts";
export { Code } from "@connectrpc/connect";
export { type Clock, RateLimiter, type RateLimiterOptions } from "./src/clarifai/rate_limiter.ts";
export {
  type RetryInfo,
  RetryPolicy,
  type RetryPolicyOptions,
  withRetry,
  type WithRetryOptions,
} from "./src/clarifai/retry_policy.ts";
export { Secret } from "./src/clarifai/secret.ts";

// Targets and the one-call helpers
export {
  openTarget,
  type Target,
  type TargetFactory,
  targetOf,
  type TargetOptions,
} from "./src/upload/target.ts";
export {
  ensureDataset,
  uploadCsv,
  uploadFolder,
  uploadInputs,
  type UploadOptions,
} from "./src/upload/upload.ts";
export { uploadCoco, uploadVoc, uploadYolo } from "./src/upload/upload_formats.ts";
export { type DraftSource, runUpload, type RunUploadOptions } from "./src/upload/run_upload.ts";
export { type AddInputsResult, addInputsToDataset } from "./src/upload/add_inputs_to_dataset.ts";
export {
  datasetVersionEvents,
  type DatasetVersionOptions,
  type LatestDatasetVersion,
  latestDatasetVersion,
  type VersionUserAppId,
} from "./src/upload/dataset_version.ts";
export {
  describeOptionProblem,
  type OptionProblem,
  type OptionProblemError,
  type OptionRule,
  type ParsedUploadOptions,
  parseUploadOptions,
  type RawUploadOptions,
  UPLOAD_OPTION_RULES,
  type UploadOptionName,
} from "./src/upload/upload_options.ts";
